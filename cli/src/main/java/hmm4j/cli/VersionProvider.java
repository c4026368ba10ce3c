package hmm4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code hmm4j --version}: the project version, filtered into
 * {@code hmm4j/cli/version.properties} at build time, and the Java runtime it runs on.
 */
final class VersionProvider implements IVersionProvider {
    private static final String RESOURCE = "/hmm4j/cli/version.properties";

    /** The project version, e.g. {@code 0.1.0-SNAPSHOT}, or {@code unknown} outside a build. */
    static String version() {
        try (InputStream in = VersionProvider.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** Two lines: the tool's version, then the Java runtime's version and vendor. */
    @Override
    public String[] getVersion() {
        return new String[] {
            "hmm4j " + version(),
            "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown vendor") + ")"
        };
    }
}
