package hmm4j.sim.report;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Golden files: expected outputs kept as test resources under {@code golden/} and compared
 * whole, line by line, with what the code renders now.
 *
 * <p>A mismatch fails with a line diff of the two texts ({@code -} golden, {@code +}
 * rendered, two lines of context, line numbers of the golden file) and says how to accept
 * the new output. To regenerate every golden file of a module after an intended change of
 * the report, run its tests with the system property {@value #UPDATE_PROPERTY}, which
 * writes the rendered texts into the source tree ({@code src/test/resources/golden/} of the
 * module the tests run in, found from the {@code basedir} property Surefire sets, else the
 * working directory) instead of comparing, then review them with {@code git diff}:
 *
 * <pre>
 * mvn -o -pl sim test -Dtest='TextReportGoldenTest' -Dhmm4j.updateGolden=true
 * </pre>
 *
 * Files are UTF-8 with {@code \n} line ends; a {@code \r\n} in a golden file is read as
 * {@code \n}. The report tests of {@code check} and {@code explore} use it too, through
 * sim's test jar; each module keeps its own {@code golden/} files.
 */
public final class GoldenFile {
    /** The system property that turns comparing into writing. */
    public static final String UPDATE_PROPERTY = "hmm4j.updateGolden";
    private static final int CONTEXT = 2;

    private GoldenFile() {
    }

    /**
     * Fails unless {@code actual} equals the golden file {@code golden/<name>}; with
     * {@value #UPDATE_PROPERTY} set, writes {@code actual} to it in the source tree instead.
     */
    public static void assertMatches(String name, String actual) {
        if (Boolean.getBoolean(UPDATE_PROPERTY)) {
            write(sourcePath(name), actual);
            return;
        }
        String expected = read(name);
        if (expected == null) {
            fail("golden file golden/" + name + " does not exist yet.\n" + howToUpdate());
        }
        if (!expected.equals(actual)) {
            fail(mismatch(name, expected, actual));
        }
    }

    /** The failure message for a mismatch: a header, the diff's hunks and how to update. */
    static String mismatch(String name, String expected, String actual) {
        StringBuilder b = new StringBuilder();
        b.append("rendered text differs from golden/").append(name).append(" (- golden, + rendered):\n");
        for (String line : diff(lines(expected), lines(actual))) {
            b.append(line).append('\n');
        }
        return b.append(howToUpdate()).toString();
    }

    /**
     * The line diff of {@code expected} and {@code actual}: hunks headed
     * {@code @@ golden line N @@}, each with up to {@value #CONTEXT} unchanged lines
     * ({@code "  "}) around the removed ({@code "- "}) and added ({@code "+ "}) ones. Based on
     * a longest common subsequence, so an inserted line shows as one {@code +}.
     */
    static List<String> diff(List<String> expected, List<String> actual) {
        int n = expected.size();
        int m = actual.size();
        int[][] lcs = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = m - 1; j >= 0; j--) {
                lcs[i][j] = expected.get(i).equals(actual.get(j)) ? lcs[i + 1][j + 1] + 1
                        : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        // The edit script: one entry per line, with the golden line number it sits at.
        List<String> script = new ArrayList<>();
        List<Integer> goldenLine = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && expected.get(i).equals(actual.get(j))) {
                script.add("  " + expected.get(i));
                goldenLine.add(++i);
                j++;
            } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
                script.add("- " + expected.get(i));
                goldenLine.add(++i);
            } else {
                script.add("+ " + actual.get(j++));
                goldenLine.add(i + 1);
            }
        }
        boolean[] shown = new boolean[script.size()];
        for (int k = 0; k < script.size(); k++) {
            if (!script.get(k).startsWith("  ")) {
                for (int x = Math.max(0, k - CONTEXT); x <= Math.min(script.size() - 1, k + CONTEXT); x++) {
                    shown[x] = true;
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (int k = 0; k < script.size(); k++) {
            if (shown[k] && (k == 0 || !shown[k - 1])) {
                out.add("@@ golden line " + goldenLine.get(k) + " @@");
            }
            if (shown[k]) {
                out.add(script.get(k));
            }
        }
        return out;
    }

    /** The lines of {@code text}; a final line end does not start another line. */
    static List<String> lines(String text) {
        return text.lines().toList();
    }

    private static String howToUpdate() {
        String module = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).getFileName().toString();
        return "If the new text is intended, regenerate the golden files with\n"
                + "  mvn -o -pl sim test -Dtest='TextReportGoldenTest' -D" + UPDATE_PROPERTY + "=true\n"
                + (module.equals("sim") ? "" : "  (this module's: mvn -o -pl " + module + " test -D" + UPDATE_PROPERTY
                        + "=true)\n")
                + "and review the change with git diff.";
    }

    private static String read(String name) {
        try (InputStream in = GoldenFile.class.getResourceAsStream("/golden/" + name)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\r\n", "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path sourcePath(String name) {
        String base = System.getProperty("basedir", System.getProperty("user.dir"));
        return Path.of(base, "src", "test", "resources", "golden", name);
    }

    private static void write(Path path, String text) {
        try {
            Files.createDirectories(path.getParent());
            Files.writeString(path, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
