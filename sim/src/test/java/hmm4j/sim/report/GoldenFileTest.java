package hmm4j.sim.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The golden-file comparison itself: its diff and its failure message. */
class GoldenFileTest {

    @Test
    void diff_ofEqualTexts_isEmpty() {
        assertEquals(List.of(), GoldenFile.diff(List.of("a", "b"), List.of("a", "b")));
    }

    @Test
    void diff_showsAChangedLineWithContextAndTheGoldenLineNumber() {
        List<String> golden = List.of("1", "2", "3", "4", "5", "6", "7", "8");
        List<String> rendered = List.of("1", "2", "3", "4", "five", "6", "7", "8");
        assertEquals(List.of("@@ golden line 3 @@", "  3", "  4", "- 5", "+ five", "  6", "  7"),
                GoldenFile.diff(golden, rendered));
    }

    @Test
    void diff_showsAnInsertedLineAsOneAddition_andSeparatesDistantHunks() {
        List<String> golden = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i");
        List<String> rendered = List.of("a", "new", "b", "c", "d", "e", "f", "g", "h");
        assertEquals(List.of("@@ golden line 1 @@", "  a", "+ new", "  b", "  c",
                        "@@ golden line 7 @@", "  g", "  h", "- i"),
                GoldenFile.diff(golden, rendered));
    }

    @Test
    void mismatch_namesTheFile_andSaysHowToRegenerate() {
        String message = GoldenFile.mismatch("x.txt", "PASS\nseed 1\n", "PASS\nseed 2\n");
        assertEquals("""
                rendered text differs from golden/x.txt (- golden, + rendered):
                @@ golden line 1 @@
                  PASS
                - seed 1
                + seed 2
                If the new text is intended, regenerate the golden files with
                  mvn -o -pl sim test -Dtest='TextReportGoldenTest' -Dhmm4j.updateGolden=true
                and review the change with git diff.""", message);
    }

    @Test
    void assertMatches_failsWithTheDiff_whenTheTextDiffers() {
        if (Boolean.getBoolean(GoldenFile.UPDATE_PROPERTY)) {
            return; // updating writes instead of comparing
        }
        String actual = GoldenScenarios.clean().toString();
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> GoldenFile.assertMatches("text-report-clean.txt", actual));
        assertTrue(e.getMessage().startsWith("rendered text differs from golden/text-report-clean.txt"),
                e.getMessage());
        assertTrue(e.getMessage().contains("\n- PASS no failure found\n"), e.getMessage());
    }
}
