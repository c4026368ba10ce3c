package hmm4j.scenarios;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RandomWalkStrategy;
import hmm4j.sim.RunResult;
import java.util.Optional;

/**
 * Explores a scenario over consecutive seeds with the seeded random walk (the explorer's
 * portfolio replaces this later) and stops at the first failure. Each run gets a fresh
 * kernel with the checkers installed.
 */
public final class ScenarioRunner {
    private ScenarioRunner() {
    }

    /** One run of {@code scenario} with {@code seed}. */
    public static RunResult runOnce(Scenario scenario, long seed, long maxSteps) {
        Kernel kernel = Kernel.builder().seed(seed).strategy(new RandomWalkStrategy(seed)).maxSteps(maxSteps).build();
        Checkers.install(kernel);
        scenario.setUp(kernel);
        return kernel.run();
    }

    /** Explores {@code scenario} within {@code budget}. */
    public static ScenarioOutcome run(Scenario scenario, Budget budget) {
        long start = System.nanoTime();
        if (scenario.expectation().isPending()) {
            return new ScenarioOutcome(scenario, 0, Optional.empty(), -1, 0);
        }
        for (int i = 0; i < budget.runs(); i++) {
            RunResult r = runOnce(scenario, budget.firstSeed() + i, budget.maxSteps());
            if (!r.clean()) {
                long t = System.nanoTime() - start;
                return new ScenarioOutcome(scenario, i + 1, Optional.of(r), t, t);
            }
        }
        return new ScenarioOutcome(scenario, budget.runs(), Optional.empty(), -1, System.nanoTime() - start);
    }
}
