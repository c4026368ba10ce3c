package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.api.Test;

/**
 * What the S3 and S4 findings say, beyond their kind: the object, the access and the three
 * sites name the design's mistake.
 */
class NotifierScenariosTest {

    private static Failure firstFinding(String id) {
        Scenario s = Catalogue.byId(id).orElseThrow();
        for (long seed = 1; seed <= 1000; seed++) {
            RunResult r = ScenarioRunner.runOnce(s, seed, 100_000);
            if (!r.clean()) {
                return r.firstFailure().orElseThrow();
            }
        }
        throw new AssertionError(id + " found nothing in 1000 seeds");
    }

    @Test
    void s3a_theCallbackRunsOnTheMirrorFreedByTheTeardownThread() {
        var uaf = assertInstanceOf(Failure.UseAfterFree.class, firstFinding("S3a-hmm-no-grace"));
        assertEquals("hmm-mirror", uaf.object());
        assertTrue(uaf.access().contains("->invalidate_range_start"), uaf.access());
        assertEquals("teardown", uaf.freed().task());
        assertEquals("unmapper", uaf.site().task());
    }

    @Test
    void s3b_theUnwindFreesWhileTheUnmapperIsInTheCallback() {
        var uaf = assertInstanceOf(Failure.UseAfterFree.class, firstFinding("S3b-kfd-unwind"));
        assertEquals("kfd_process", uaf.object());
        assertEquals("process", uaf.freed().task());
        assertEquals("unmapper", uaf.site().task());
    }

    @Test
    void s3c_theFailingStartOfASubscriptionWithAnEndIsReportedInTheReaper() {
        var iv = assertInstanceOf(Failure.InvariantViolation.class, firstFinding("S3c-odp-nonblock"));
        assertEquals(KernelRules.FALLIBLE_START_NO_END, iv.rule());
        assertEquals("oom_reaper", iv.site().task());
    }

    @Test
    void s3d_theWorkItemIsReportedByThePinRule() {
        var unpinned = assertInstanceOf(Failure.UnpinnedAddressSpaceUse.class, firstFinding("S3d-odp-mmgrab"));
        assertEquals("odp-work", unpinned.site().task());
        assertTrue(unpinned.operation().contains("mmu_notifier_register"), unpinned.operation());
    }

    @Test
    void s4_theFoundRangeIsFreedByTheUnmappersInvalidationEnd() {
        var uaf = assertInstanceOf(Failure.UseAfterFree.class, firstFinding("S4-find"));
        assertTrue(uaf.object().startsWith("range"), uaf.object());
        assertEquals("device", uaf.site().task());
        assertEquals("unmapper", uaf.freed().task());
        assertTrue(uaf.access().contains("mmu_interval_read"), uaf.access());
    }
}
