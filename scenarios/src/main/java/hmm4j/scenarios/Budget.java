package hmm4j.scenarios;

import hmm4j.explore.ExploreOptions;
import hmm4j.explore.strategy.StrategySpec;
import java.util.Objects;

/**
 * How much to explore a scenario: {@code runs} runs, run {@code r} with seed
 * {@code firstSeed + r}, each bounded by {@code maxSteps} scheduling decisions, scheduled by
 * {@code strategy} (the explorer's portfolio by default), on {@code workers} worker threads
 * (0: one per processor; the verdict does not depend on it) and in {@code lanes} lanes (part
 * of the exploration's identity, like the seed: see {@link ExploreOptions#lanes()}).
 */
public record Budget(int runs, long firstSeed, long maxSteps, StrategySpec strategy, int workers, int lanes) {

    /** The default budget of {@code hmm4j check}. */
    public static final Budget DEFAULT = new Budget(1000, 1, 100_000);

    public Budget {
        if (runs <= 0) throw new IllegalArgumentException("runs must be positive: " + runs);
        if (maxSteps <= 0) throw new IllegalArgumentException("maxSteps must be positive: " + maxSteps);
        Objects.requireNonNull(strategy, "strategy");
        if (workers < 0) throw new IllegalArgumentException("workers must be positive: " + workers);
        if (lanes <= 0) throw new IllegalArgumentException("lanes must be positive: " + lanes);
    }

    /** A budget on one worker per processor, in the explorer's default lanes. */
    public Budget(int runs, long firstSeed, long maxSteps, StrategySpec strategy) {
        this(runs, firstSeed, maxSteps, strategy, 0, ExploreOptions.DEFAULT_LANES);
    }

    /** A budget explored with the portfolio strategy. */
    public Budget(int runs, long firstSeed, long maxSteps) {
        this(runs, firstSeed, maxSteps, StrategySpec.PORTFOLIO);
    }

    /** This budget with another strategy. */
    public Budget withStrategy(StrategySpec s) {
        return new Budget(runs, firstSeed, maxSteps, s, workers, lanes);
    }

    /** This budget on {@code n} workers (0: one per processor). */
    public Budget withWorkers(int n) {
        return new Budget(runs, firstSeed, maxSteps, strategy, n, lanes);
    }

    /** This budget in {@code n} lanes. */
    public Budget withLanes(int n) {
        return new Budget(runs, firstSeed, maxSteps, strategy, workers, n);
    }
}
