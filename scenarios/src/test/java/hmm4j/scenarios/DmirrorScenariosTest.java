package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.drivers.dmirror.DmirrorProtocol;
import hmm4j.drivers.dmirror.DmirrorRules;
import hmm4j.explore.ExplorationResult;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.report.TextReport;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * S5: the correct test device stays clean under every workload (a plain random walk and the
 * portfolio; the bounded DFS exhausts the smallest workloads), and every protocol mutant is
 * found by a plain random walk within a few hundred runs, with the failure its bug produces.
 */
class DmirrorScenariosTest {

    private static Scenario scenario(DmirrorProtocol p) {
        return Catalogue.byId(DmirrorScenarios.id(p)).orElseThrow(() -> new AssertionError(p + " is not in the catalogue"));
    }

    private static Scenario correctOn(DmirrorScenarios.Workload w) {
        return new DesignScenario("S5-dmirror-correct-on-" + w, "the correct device on the workload " + w,
                Expectation.clean(), k -> w.setUp(k, DmirrorProtocol.CORRECT));
    }

    @Test
    void everyProtocolVariant_isInTheCatalogue_once() {
        Set<String> ids = new HashSet<>();
        for (Scenario s : Catalogue.all()) {
            assertTrue(ids.add(s.id()), "duplicate id " + s.id());
        }
        for (DmirrorProtocol p : DmirrorProtocol.values()) {
            Scenario s = scenario(p);
            assertEquals(p == DmirrorProtocol.CORRECT, s.expectation().expectsClean(), s.id());
        }
        assertFalse(Catalogue.byId("S5-dmirror-own-migration-skip").isPresent(), "observations are not catalogue entries");
    }

    @Test
    void aCleanRunOfTheCorrectDevice_namesTheChecksThatRanAtItsEnd() {
        RunResult r = ScenarioRunner.runOnce(scenario(DmirrorProtocol.CORRECT), 1, 100_000);
        assertTrue(r.clean(), () -> TextReport.render(r));
        assertEquals(Set.of(DmirrorRules.NO_STALE_ENTRY.id(), "interval.quiescent-state", "mem.leak", "refcount.leak",
                "lockdep.none-held-at-exit", "migrate.finalized", "migrate.no-entry-left", "page.none-locked-at-end",
                "page.no-reference-left"), Set.copyOf(r.validators()));
        assertTrue(TextReport.render(r).contains("checked at the end: "), () -> TextReport.render(r));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DmirrorScenarios.Workload.class)
    void theCorrectDevice_isCleanOnEveryWorkload_underARandomWalk(DmirrorScenarios.Workload w) {
        ScenarioOutcome o = ScenarioRunner.run(correctOn(w), new Budget(400, 1000, 100_000).withStrategy(StrategySpec.RANDOM));
        assertEquals("clean", o.actual(), () -> o.firstFailure().map(TextReport::render).orElse(""));
        assertEquals(400, o.runs());
    }

    @Test
    void theCorrectDevice_isCleanOnEveryScheduleOfTheUnmapRace_withAtMostTwoPreemptions() {
        ExplorationResult r = ScenarioRunner.explore(correctOn(DmirrorScenarios.Workload.UNMAP_RACE),
                ScenarioRunner.options(new Budget(5000, 1, 100_000).withStrategy(StrategySpec.parse("dfs:2"))));
        assertTrue(r.clean(), r::verdictLine);
        assertEquals(Optional.of(2), r.exhaustedAtBound(), "the whole bounded space was run: " + r.verdictLine());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DmirrorProtocol.class, mode = EnumSource.Mode.EXCLUDE, names = "CORRECT")
    void everyMutant_isFoundByARandomWalk_withinAFewHundredRuns(DmirrorProtocol p) {
        Scenario s = scenario(p);
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(300, 1, 100_000).withStrategy(StrategySpec.RANDOM));
        assertTrue(o.asExpected(), () -> s.id() + ": expected " + s.expectation().label() + " but got " + o.actual());
        Failure f = o.firstFailure().orElseThrow().firstFailure().orElseThrow();
        if (f instanceof Failure.InvariantViolation v) {
            assertEquals(s.expectation().finds(), v.rule());
        }
    }

    @Test
    void theOwnMigrationSkipOfLibTestHmm_racesAFaultOfTheSameDevice() {
        Scenario s = DmirrorScenarios.observations().get(0);
        // Found at run 147 since the fault path's per-VMA lock and munmap's downgrade (was < 100).
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(500, 1, 100_000));
        assertTrue(o.asExpected(), () -> "expected the race to be found, got " + o.actual());
        Failure.InvariantViolation v = (Failure.InvariantViolation) o.firstFailure().orElseThrow().firstFailure().orElseThrow();
        // Caught either once the device page is back on the free list (DEVICE_IDLE) or while
        // migrate_to_ram still holds it locked: both are the device entry the CPU no longer maps.
        assertTrue(v.detail().contains("names a device page the CPU no longer maps")
                        && (v.detail().contains("DEVICE_IDLE") || v.detail().contains("locked")),
                "the stale entry names a device page leaving the CPU's table: " + v.detail());
    }

    @Test
    void anOomReapDuringLibTestHmmsMigration_leavesTheMirrorNamingAPageTheCpuNoLongerMaps() {
        Scenario s = DmirrorScenarios.observations().get(1);
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(300, 1, 100_000));
        assertTrue(o.asExpected(), () -> "expected the race to be found, got " + o.actual());
        Failure.InvariantViolation v = (Failure.InvariantViolation) o.firstFailure().orElseThrow().firstFailure().orElseThrow();
        assertTrue(v.detail().contains("the CPU entry is none"), "the reaper zapped the migration entry: " + v.detail());
    }
}
