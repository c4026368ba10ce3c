package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The hmm4j version written into failure files, filtered into a resource by the build. */
@HiddenFromSites
public final class Version {
    private static final String RESOURCE = "/hmm4j/explore/version.properties";

    private Version() {
    }

    /** The project version, e.g. {@code 0.1.0-SNAPSHOT}, or {@code unknown} outside a build. */
    public static String current() {
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
