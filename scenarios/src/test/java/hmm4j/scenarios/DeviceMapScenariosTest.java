package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.drivers.notifier.ProtectionMirror;
import hmm4j.kernel.KernelRules;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.api.Test;

/**
 * D1 through the device-mapping checker: the driver that ignores protection events is found
 * at the end of fork's write-protect invalidation, with the entry, the invalidation and the
 * commit site; the driver that handles them is clean over the exploration budget and reaches
 * its protection branch.
 */
class DeviceMapScenariosTest {

    @Test
    void d1_theWritableEntryThatSurvivedForksWriteProtect_isFound_withTheInvalidationAndTheCommitSite() {
        Scenario s = Catalogue.byId("D1-ignores-protection").orElseThrow();
        RunResult r = ScenarioRunner.runOnce(s, 1, 100_000);
        var v = assertInstanceOf(Failure.InvariantViolation.class, r.firstFailure().orElseThrow());
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, v.rule());
        assertEquals("process", v.site().task(), "found in the forking task, at the end of its invalidation");
        assertTrue(v.detail().startsWith("mirror->pt: device entry 0x"), v.detail());
        assertTrue(v.detail().contains("(write) survived the invalidation MMU_NOTIFY_PROTECTION_PAGE ["), v.detail());
        assertTrue(v.detail().contains("committed at process @ step") && v.detail().contains("ProtectionMirror.fault"),
                v.detail());
        assertTrue(v.detail().contains("the invalidation started at") && v.detail().contains("Fork.copyPageRange"),
                v.detail());
    }

    @Test
    void d1_theDriverThatClearsOnProtectionEvents_isCleanAndReachesThatBranch() {
        ScenarioOutcome o = ScenarioRunner.run(Catalogue.byId("D1-handles-protection").orElseThrow(),
                new Budget(300, 1, 100_000));
        assertTrue(o.asExpected(), o.actual());
        assertTrue(Catalogue.byId("D1-handles-protection").orElseThrow().expectation().marks()
                .contains(ProtectionMirror.PROTECTION_CLEARED));
    }
}
