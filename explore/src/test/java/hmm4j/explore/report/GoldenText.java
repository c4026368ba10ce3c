package hmm4j.explore.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden files of the report tests: {@code src/test/resources/golden/<name>}, compared whole
 * with the rendered text (JUnit shows the difference). With {@code -Dhmm4j.updateGolden=true}
 * the rendered text is written to the source tree instead, for review with {@code git diff}:
 *
 * <pre>
 * mvn -o -pl explore test -Dtest='*GoldenTest' -Dhmm4j.updateGolden=true
 * </pre>
 */
final class GoldenText {
    private static final String UPDATE_PROPERTY = "hmm4j.updateGolden";

    private GoldenText() {
    }

    static void assertMatches(String name, String actual) {
        if (Boolean.getBoolean(UPDATE_PROPERTY)) {
            Path path = Path.of(System.getProperty("basedir", System.getProperty("user.dir")),
                    "src", "test", "resources", "golden", name);
            try {
                Files.createDirectories(path.getParent());
                Files.writeString(path, actual, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return;
        }
        try (InputStream in = GoldenText.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                fail("golden file golden/" + name + " does not exist yet; run with -D" + UPDATE_PROPERTY + "=true");
            }
            String expected = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\r\n", "\n");
            assertEquals(expected, actual, "rendered text differs from golden/" + name
                    + "; if intended, regenerate with -D" + UPDATE_PROPERTY + "=true and review with git diff");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
