package hmm4j.check.report;

import hmm4j.sim.report.GoldenFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.report.ReportOptions;
import hmm4j.sim.report.TextReport;
import org.junit.jupiter.api.Test;

/**
 * The text reports of the checkers' failures, compared with golden files: a use-after-free
 * with its access, allocation and free sites, and a lock-order cycle with lockdep's
 * two-task "possible unsafe locking scenario". Both carry a replay command, as the
 * explorer's reports do.
 */
class CheckerReportGoldenTest {

    private static final ReportOptions OPTIONS = ReportOptions.defaults().withReplayCommand("hmm4j replay run.json");

    @Test
    void useAfterFree_matchesGolden() {
        RunResult r = CheckerReportScenarios.useAfterFree(CheckerReportScenarios.USE_AFTER_FREE_SEED);
        assertEquals(FailureKind.USE_AFTER_FREE, r.firstFailure().orElseThrow().kind(),
                "seed " + CheckerReportScenarios.USE_AFTER_FREE_SEED + " no longer frees first; pick another seed");
        GoldenFile.assertMatches("text-report-use-after-free.txt", TextReport.render(r, OPTIONS));
    }

    @Test
    void lockOrderCycle_matchesGolden() {
        RunResult r = CheckerReportScenarios.lockOrder(CheckerReportScenarios.LOCK_ORDER_SEED);
        assertEquals(FailureKind.LOCK_ORDER_CYCLE, r.firstFailure().orElseThrow().kind());
        String text = TextReport.render(r, OPTIONS);
        assertTrue(text.contains("CPU0 (t2)") && text.contains("CPU1 (t1)"), text);
        GoldenFile.assertMatches("text-report-lock-order.txt", text);
    }

    @Test
    void render_isTheSameOnEveryRunOfASeed() {
        assertEquals(TextReport.render(CheckerReportScenarios.useAfterFree(CheckerReportScenarios.USE_AFTER_FREE_SEED)),
                TextReport.render(CheckerReportScenarios.useAfterFree(CheckerReportScenarios.USE_AFTER_FREE_SEED)));
        assertEquals(TextReport.render(CheckerReportScenarios.lockOrder(CheckerReportScenarios.LOCK_ORDER_SEED)),
                TextReport.render(CheckerReportScenarios.lockOrder(CheckerReportScenarios.LOCK_ORDER_SEED)));
    }
}
