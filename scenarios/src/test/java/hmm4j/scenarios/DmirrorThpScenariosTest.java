package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.drivers.dmirror.DmirrorProtocol;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.migrate.MigrateVma;
import hmm4j.sim.Mark;
import hmm4j.sim.report.TextReport;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * S5 on a THP buffer: each workload with the pages the device works on at the start of a
 * 2 MiB {@code MADV_HUGEPAGE} range (a THP once written, the huge zero page when only read),
 * so that the CPU's unmaps and protection changes split a PMD first, and the other device's
 * migration of DOUBLE_MAP takes the whole THP (one compound entry, no split). The correct
 * device stays clean, and every protocol mutant is still found, by the POS strategy within 300
 * runs (a plain random walk misses COMMIT_WITHOUT_MUTEX and SET_SEQ_OUTSIDE_MUTEX there: the
 * split adds steps before the CPU's first callback, which makes the bad window rarer).
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
    @EnumSource(value = DmirrorProtocol.class, mode = EnumSource.Mode.EXCLUDE, names = {"CORRECT"})
    void everyMutant_isStillFoundOnAThp_byPos(DmirrorProtocol p) {
        Scenario s = onThp(p, DmirrorScenarios.workload(p));
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(300, 1, 100_000).withStrategy(StrategySpec.POS));
        assertTrue(o.asExpected(), () -> s.id() + ": expected " + s.expectation().label() + " but got " + o.actual());
    }

    /**
     * SKIP_ANY_MIGRATE on a THP: a callback that skips every MIGRATE event is found only when
     * no other event clears its entry. Collecting the THP without
     * {@code MIGRATE_VMA_SELECT_COMPOUND} would split it, and the split's CLEAR of the whole
     * 2 MiB (nested in the MIGRATE invalidation) would clear the entry and hide the mutant; the
     * dmirror migrates with the flag, as the kernel's does since device-private THP, so the THP
     * goes whole (no split in the run) and the stale entry is found.
     */
    @Test
    void skipAnyMigrate_isFoundOnAThp_becauseTheThpMigratesWhole() {
        Scenario s = onThp(DmirrorProtocol.SKIP_ANY_MIGRATE, DmirrorScenarios.workload(DmirrorProtocol.SKIP_ANY_MIGRATE));
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(300, 1, 100_000).withStrategy(StrategySpec.POS));
        assertTrue(o.asExpected(), "expected " + s.expectation().label() + " but got " + o.actual());
        List<Mark> marks = ScenarioRunner.runOnce(onThp(DmirrorProtocol.CORRECT, DmirrorScenarios.Workload.DOUBLE_MAP),
                1, 100_000).marks();
        assertTrue(marks.contains(MigrateVma.COLLECT_COMPOUND), marks.toString());
        assertFalse(marks.contains(HugeMemory.SPLIT_PMD), marks.toString());
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
