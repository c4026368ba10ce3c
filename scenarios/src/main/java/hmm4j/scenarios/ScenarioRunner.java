package hmm4j.scenarios;

import hmm4j.check.Checkers;
import hmm4j.check.lockdep.LockGraph;
import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.ExploreTarget;
import hmm4j.explore.Explorer;
import hmm4j.explore.FoundFailure;
import hmm4j.sim.Kernel;
import hmm4j.sim.RandomWalkStrategy;
import hmm4j.sim.RunResult;
import java.util.Optional;

/**
 * Runs scenarios with the explorer. A scenario becomes an {@link ExploreTarget} whose runs
 * each get a fresh kernel with the checkers installed, lockdep sharing one dependency graph
 * with the earlier runs of its lane, so a lock-order cycle spread over two runs is reported.
 * Each run ends with the kernel's quiescence checks (balanced references, the model's
 * validators) and the checkers' verdict.
 */
public final class ScenarioRunner {
    private ScenarioRunner() {
    }

    /** {@code scenario} as an explorer target, named by its id. */
    public static ExploreTarget target(Scenario scenario) {
        return ExploreTarget.of(scenario.id(), (kernel, context) -> {
            Checkers.install(kernel, context.shared(LockGraph.class, LockGraph::new));
            scenario.setUp(kernel);
        });
    }

    /** One run of {@code scenario} with {@code seed}, scheduled by the seeded random walk, with its own lock graph. */
    public static RunResult runOnce(Scenario scenario, long seed, long maxSteps) {
        Kernel kernel = Kernel.builder().seed(seed).strategy(new RandomWalkStrategy(seed)).maxSteps(maxSteps).build();
        Checkers.install(kernel);
        scenario.setUp(kernel);
        return kernel.run();
    }

    /** The explorer options of {@code budget}: its strategy, runs, seeds, step bound, workers and lanes; no minimisation. */
    public static ExploreOptions options(Budget budget) {
        ExploreOptions o = ExploreOptions.defaults().withStrategy(budget.strategy()).withRuns(budget.runs())
                .withFirstSeed(budget.firstSeed()).withMaxSteps(budget.maxSteps()).withLanes(budget.lanes())
                .withMinimise(false);
        return budget.workers() > 0 ? o.withWorkers(budget.workers()) : o;
    }

    /**
     * Explores {@code scenario} within {@code budget}, stopping at the first failure. A
     * pending scenario is not run.
     */
    public static ScenarioOutcome run(Scenario scenario, Budget budget) {
        if (scenario.expectation().isPending()) {
            return new ScenarioOutcome(scenario, 0, Optional.empty(), -1, 0);
        }
        ExplorationResult r = Explorer.explore(target(scenario), options(budget));
        return new ScenarioOutcome(scenario, (int) r.runsDone(), r.failure().map(FoundFailure::run),
                r.nanosToFirstFailure(), r.totalNanos(), r.marks(), r.exhaustedAtBound());
    }

    /** Explores {@code scenario} with any options (the {@code hmm4j explore} command). */
    public static ExplorationResult explore(Scenario scenario, ExploreOptions options) {
        return Explorer.explore(target(scenario), options);
    }
}
