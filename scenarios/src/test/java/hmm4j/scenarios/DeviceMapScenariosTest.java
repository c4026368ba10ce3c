package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.drivers.notifier.ProtectionMirror;
import hmm4j.kernel.KernelRules;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * D1 through the device-mapping checker: the driver that ignores protection events is found
 * at the end of fork's write-protect invalidation, with the entry, the invalidation and the
 * commit site; the driver that handles them is clean over the exploration budget and reaches
 * its protection branch. D2 to D4 likewise for clear_refs 4, a NUMA-balancing scan and
 * compaction, each found at the end of its own invalidation with that event; D5 to D7 for the
 * CLEAR of a KSM merge (in ksmd), of mbind/migrate_pages and of MADV_UNMERGEABLE (a read-only
 * entry: a CLEAR spares none; found at break_ksm's wp_page_copy).
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

    @ParameterizedTest
    @CsvSource({
            "D2-ignores-soft-dirty, MMU_NOTIFY_SOFT_DIRTY, ClearRefs.clearRefsWrite",
            "D3-ignores-numa-hinting, MMU_NOTIFY_PROTECTION_VMA, NumaBalancing.changeProtNuma",
            "D4-ignores-migration-clear, MMU_NOTIFY_CLEAR, MigratePages."})
    void d2to4_theWritableEntryThatSurvivedTheOperation_isFound_atTheEndOfItsInvalidation(String id, String event,
            String site) {
        RunResult r = ScenarioRunner.runOnce(Catalogue.byId(id).orElseThrow(), 1, 100_000);
        var v = assertInstanceOf(Failure.InvariantViolation.class, r.firstFailure().orElseThrow());
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, v.rule());
        assertEquals("process", v.site().task(), "found in the task that ran the operation");
        assertTrue(v.detail().startsWith("mirror->pt: device entry 0x"), v.detail());
        assertTrue(v.detail().contains("(write) survived the invalidation " + event + " ["), v.detail());
        assertTrue(v.detail().contains("the invalidation started at") && v.detail().contains(site), v.detail());
    }

    @ParameterizedTest
    @CsvSource({
            "D5-ignores-ksm-merge-clear, ksmd, write, Ksm.",
            "D6-ignores-mbind-migration-clear, process, write, MigratePages.",
            "D7-ignores-unmerge-clear, process, read, Fault.wpPageCopy"})
    void d5to7_theEntryThatSurvivedTheClearOfAMergeAMigrationOrAnUnmerge_isFound(String id, String task, String access,
            String site) {
        RunResult r = ScenarioRunner.runOnce(Catalogue.byId(id).orElseThrow(), 1, 100_000);
        var v = assertInstanceOf(Failure.InvariantViolation.class, r.firstFailure().orElseThrow());
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, v.rule());
        assertEquals(task, v.site().task(), "found in the task that ran the operation");
        assertTrue(v.detail().startsWith("mirror->pt: device entry 0x"), v.detail());
        assertTrue(v.detail().contains("(" + access + ") survived the invalidation MMU_NOTIFY_CLEAR ["), v.detail());
        assertTrue(v.detail().contains("the invalidation started at") && v.detail().contains(site), v.detail());
    }

    @ParameterizedTest
    @CsvSource({
            "D2-handles-soft-dirty, driver.invalidate.soft-dirty-cleared",
            "D3-handles-numa-hinting, driver.invalidate.protection-cleared",
            "D4-handles-migration-clear, driver.invalidate.clear-cleared",
            "D5-handles-ksm-merge-clear, driver.invalidate.clear-cleared",
            "D6-handles-mbind-migration-clear, driver.invalidate.clear-cleared",
            "D7-handles-unmerge-clear, driver.invalidate.clear-cleared"})
    void d2to7_theDriverThatClearsOnEveryEvent_isCleanAndReachesItsClearingMark(String id, String mark) {
        Scenario s = Catalogue.byId(id).orElseThrow();
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(300, 1, 100_000));
        assertTrue(o.asExpected(), o.actual());
        assertTrue(s.expectation().marks().stream().anyMatch(m -> m.id().equals(mark)), s.expectation().toString());
    }
}
