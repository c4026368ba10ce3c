package hmm4j.sim.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.failure.FailureKind;
import org.junit.jupiter.api.Test;

/**
 * The whole text report of four small runs on fixed seeds, compared with golden files:
 * a clean run, an AB-BA deadlock, a task that throws and a run with every kind of wait
 * (wait queue, timeout, completion, sleep). Each covers the verdict line, the seed line,
 * the failure's details and the per-task columns with their switch reasons. The reports of
 * the checkers' failures (use-after-free, lock-order cycle) are golden-tested in the
 * {@code check} module, which has the checkers. The report has no wall-clock
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
    void everyKindOfWait_matchesGolden() {
        RunResult r = GoldenScenarios.waits();
        assertTrue(r.clean(), r.failures().toString());
        String text = TextReport.render(r);
        assertTrue(text.contains("woken by producer") && text.contains("timed out: wait_event_timeout(dev->wq)")
                && text.contains("woken by the clock"), text);
        GoldenFile.assertMatches("text-report-waits.txt", text);
    }

    @Test
    void render_isTheSameOnEveryRunOfASeed() {
        assertEquals(TextReport.render(GoldenScenarios.deadlock()), TextReport.render(GoldenScenarios.deadlock()));
        assertEquals(TextReport.render(GoldenScenarios.exception()), TextReport.render(GoldenScenarios.exception()));
    }
}
