package hmm4j.sim.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.failure.FailureKind;
import org.junit.jupiter.api.Test;

/**
 * The whole text report of three small runs on fixed seeds, compared with golden files:
 * a clean run, an AB-BA deadlock and a task that throws. Each covers the verdict line, the
 * seed line, the failure's details and the per-task columns. The report has no wall-clock
 * time, hash code or absolute path in it, so the text is compared as is. To regenerate the
 * files after an intended change, see {@link GoldenFile}.
 */
class TextReportGoldenTest {

    @Test
    void cleanRun_matchesGolden() {
        RunResult r = GoldenScenarios.clean();
        assertTrue(r.clean(), r.failures().toString());
        GoldenFile.assertMatches("text-report-clean.txt", TextReport.render(r));
    }

    @Test
    void deadlock_matchesGolden() {
        RunResult r = GoldenScenarios.deadlock();
        assertEquals(FailureKind.DEADLOCK, r.firstFailure().orElseThrow().kind(),
                "seed " + GoldenScenarios.DEADLOCK_SEED + " no longer deadlocks; pick another seed");
        GoldenFile.assertMatches("text-report-deadlock.txt", TextReport.render(r));
    }

    @Test
    void throwingTask_matchesGolden() {
        RunResult r = GoldenScenarios.exception();
        assertEquals(FailureKind.UNEXPECTED_EXCEPTION, r.firstFailure().orElseThrow().kind());
        GoldenFile.assertMatches("text-report-exception.txt", TextReport.render(r));
    }

    @Test
    void render_isTheSameOnEveryRunOfASeed() {
        assertEquals(TextReport.render(GoldenScenarios.deadlock()), TextReport.render(GoldenScenarios.deadlock()));
        assertEquals(TextReport.render(GoldenScenarios.exception()), TextReport.render(GoldenScenarios.exception()));
    }
}
