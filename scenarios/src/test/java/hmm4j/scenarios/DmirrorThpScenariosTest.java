package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.drivers.dmirror.DmirrorProtocol;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.sim.Mark;
import hmm4j.sim.report.TextReport;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * S5 on a THP buffer: each workload with the pages the device works on at the start of a
 * 2 MiB {@code MADV_HUGEPAGE} range (a THP once written, the huge zero page when only read),
 * so that the CPU's unmaps and protection changes split a PMD first. The correct device stays
 * clean, and every protocol mutant but one is still found, by the POS strategy within 300
 * runs (a plain random walk misses COMMIT_WITHOUT_MUTEX and SET_SEQ_OUTSIDE_MUTEX there: the
 * split adds steps before the CPU's first callback, which makes the bad window rarer);
 * SKIP_ANY_MIGRATE is hidden by the split's CLEAR, as it would be in the kernel.
 */
class DmirrorThpScenariosTest {

    private static Scenario onThp(DmirrorProtocol p, DmirrorScenarios.Workload w) {
        Scenario base = Catalogue.byId(DmirrorScenarios.id(p)).orElseThrow();
        return new DesignScenario(base.id() + "-thp", base.title() + ", on a THP", base.expectation(),
                k -> w.setUp(k, p, true));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DmirrorScenarios.Workload.class)
    void theCorrectDevice_isCleanOnEveryWorkloadOnAThp(DmirrorScenarios.Workload w) {
        ScenarioOutcome o = ScenarioRunner.run(onThp(DmirrorProtocol.CORRECT, w),
                new Budget(100, 1000, 100_000).withStrategy(StrategySpec.RANDOM));
        assertEquals("clean", o.actual(), () -> o.firstFailure().map(TextReport::render).orElse(""));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DmirrorProtocol.class, mode = EnumSource.Mode.EXCLUDE, names = {"CORRECT", "SKIP_ANY_MIGRATE"})
    void everyMutant_isStillFoundOnAThp_byPos(DmirrorProtocol p) {
        Scenario s = onThp(p, DmirrorScenarios.workload(p));
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(300, 1, 100_000).withStrategy(StrategySpec.POS));
        assertTrue(o.asExpected(), () -> s.id() + ": expected " + s.expectation().label() + " but got " + o.actual());
    }

    /**
     * The one mutant a THP hides, as in the kernel: a callback that skips every MIGRATE event
     * still clears its entries, because collecting a PMD-mapped THP without
     * {@code MIGRATE_VMA_SELECT_COMPOUND} splits it, and the split's CLEAR of the whole 2 MiB
     * (nested in the MIGRATE invalidation) reaches the callback. It is found on base pages
     * (the catalogue's S5 scenario) and would be on a THP migrated whole.
     */
    @Test
    void skipAnyMigrate_isSavedOnAThp_byTheSplitsClear() {
        Scenario s = onThp(DmirrorProtocol.SKIP_ANY_MIGRATE, DmirrorScenarios.workload(DmirrorProtocol.SKIP_ANY_MIGRATE));
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(300, 1, 100_000).withStrategy(StrategySpec.POS));
        assertEquals("clean", o.actual());
        ScenarioOutcome base = ScenarioRunner.run(Catalogue.byId(DmirrorScenarios.id(DmirrorProtocol.SKIP_ANY_MIGRATE))
                .orElseThrow(), new Budget(300, 1, 100_000).withStrategy(StrategySpec.POS));
        assertTrue(base.asExpected(), "found on base pages: " + base.actual());
        assertTrue(ScenarioRunner.runOnce(s, 1, 100_000).marks().contains(HugeMemory.SPLIT_PMD));
    }

    @Test
    void theThpWorkloads_reallyMapHugePagesAndSplitThem() {
        Set<Mark> marks = new HashSet<>();
        for (DmirrorScenarios.Workload w : DmirrorScenarios.Workload.values()) {
            marks.addAll(ScenarioRunner.runOnce(onThp(DmirrorProtocol.CORRECT, w), 1, 100_000).marks());
        }
        assertTrue(marks.contains(HugeMemory.FAULT_ALLOC) && marks.contains(HugeMemory.SPLIT_PMD), marks.toString());
    }
}
