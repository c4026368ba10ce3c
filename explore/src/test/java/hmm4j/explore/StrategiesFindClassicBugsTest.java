package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.strategy.StrategySpec;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every strategy finds every classic bug within a small budget, DFS finds each at exactly
 * its preemption count and not below, and no strategy ever fails a correct program.
 *
 * <p>Budgets (runs from seed 1): {@value #BUDGET} for every seeded strategy; measured on
 * seeds 1..400 the worst case was under 100 runs (PCT depth 3 on the two-preemption bug),
 * most bugs fall within 10 runs. DFS with bound 2 finds each within 10 runs.
 */
class StrategiesFindClassicBugsTest {
    static final int BUDGET = 300;
    static final List<String> SEEDED = List.of("random", "pct:3", "pos", "portfolio");

    static Stream<Arguments> seededStrategiesAndBugs() {
        return SEEDED.stream().flatMap(s -> ClassicBugs.all().stream().map(b -> Arguments.of(s, b)));
    }

    static ExploreOptions options(String strategy, int runs) {
        return ExploreOptions.defaults().withStrategy(StrategySpec.parse(strategy)).withRuns(runs).withWorkers(2)
                .withMinimise(false);
    }

    @ParameterizedTest(name = "{0} finds {1}")
    @MethodSource("seededStrategiesAndBugs")
    void seededStrategy_findsBug_withinBudget(String strategy, ClassicBugs.Bug bug) {
        ExplorationResult r = Explorer.explore(bug.target(), options(strategy, BUDGET));
        FoundFailure f = r.failure().orElseThrow(() -> new AssertionError(strategy + " missed " + bug + ": " + r.verdictLine()));
        assertEquals(bug.kind(), f.failure().orElseThrow().kind(), f.headline());
        assertEquals(ExplorationResult.StopReason.FAILURE, r.stoppedBy());
        assertEquals(f.runIndex() + 1, r.runsDone(), "a failing run ends the exploration after the runs before it");
        assertTrue(f.strategy().startsWith(StrategySpec.parse(strategy).member(f.runIndex()).kind().label()),
                f.strategy());
    }

    static Stream<ClassicBugs.Bug> bugs() {
        return ClassicBugs.all().stream();
    }

    @ParameterizedTest(name = "dfs:2 finds {0}")
    @MethodSource("bugs")
    void dfsBound2_findsEveryBug(ClassicBugs.Bug bug) {
        ExplorationResult r = Explorer.explore(bug.target(), options("dfs:2", 100_000));
        FoundFailure f = r.failure().orElseThrow(() -> new AssertionError("dfs:2 missed " + bug + ": " + r.verdictLine()));
        assertEquals(bug.kind(), f.failure().orElseThrow().kind());
        assertTrue(r.runsDone() <= 10, bug + " took " + r.runsDone() + " dfs runs");
        assertTrue(f.strategy().startsWith("dfs(preemptions<=2"), f.strategy());
    }

    @ParameterizedTest(name = "dfs finds {0} at its preemption count, not below")
    @MethodSource("bugs")
    void dfs_findsEachBugAtExactlyItsPreemptionCount(ClassicBugs.Bug bug) {
        if (bug.preemptions() > 0) {
            ExplorationResult below = Explorer.explore(bug.target(), options("dfs:" + (bug.preemptions() - 1), 100_000));
            assertTrue(below.clean(), bug + " must need " + bug.preemptions() + " preemptions: " + below.verdictLine());
            assertEquals(ExplorationResult.StopReason.EXHAUSTED, below.stoppedBy());
            assertEquals(bug.preemptions() - 1, below.exhaustedAtBound().orElseThrow());
        }
        ExplorationResult at = Explorer.explore(bug.target(), options("dfs:" + bug.preemptions(), 100_000));
        assertTrue(at.failure().isPresent(), bug + " at bound " + bug.preemptions() + ": " + at.verdictLine());
    }

    static Stream<Arguments> strategiesAndCorrectPrograms() {
        return Stream.concat(SEEDED.stream(), Stream.of("dfs:2"))
                .flatMap(s -> ClassicBugs.correct().stream().map(t -> Arguments.of(s, t.name())));
    }

    @ParameterizedTest(name = "{0} passes {1}")
    @MethodSource("strategiesAndCorrectPrograms")
    void correctProgram_neverFails(String strategy, String name) {
        ExploreTarget t = ClassicBugs.correct().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
        ExplorationResult r = Explorer.explore(t, options(strategy, 200));
        assertTrue(r.clean(), r.verdictLine());
        if (strategy.startsWith("dfs")) {
            assertEquals(ExplorationResult.StopReason.EXHAUSTED, r.stoppedBy(), r.verdictLine());
            assertTrue(r.verdictLine().contains("space exhausted at bound 2"), r.verdictLine());
        } else {
            assertEquals(200, r.runsDone());
            assertEquals(ExplorationResult.StopReason.RUNS, r.stoppedBy());
        }
    }

    @Test
    void dfs_withoutEnoughRuns_doesNotClaimExhaustion() {
        ExplorationResult r = Explorer.explore(ClassicBugs.lockedUpdate(), options("dfs:2", 3));
        assertEquals(3, r.runsDone());
        assertEquals(ExplorationResult.StopReason.RUNS, r.stoppedBy());
        assertTrue(r.exhaustedAtBound().isEmpty());
    }

    @Test
    void livelock_isReportedAsStepBoundExceeded_notAHang() {
        ExplorationResult r = Explorer.explore(ClassicBugs.livelock(), options("random", 5).withMaxSteps(500));
        FoundFailure f = r.failure().orElseThrow();
        assertEquals(hmm4j.sim.failure.FailureKind.STEP_BOUND_EXCEEDED, f.failure().orElseThrow().kind());
        assertEquals(0, f.runIndex());
        assertTrue(f.headline().contains("limit 500"), f.headline());
    }
}
