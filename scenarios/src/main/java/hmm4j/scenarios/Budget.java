package hmm4j.scenarios;

import hmm4j.explore.strategy.StrategySpec;
import java.util.Objects;

/**
 * How much to explore a scenario: {@code runs} runs, run {@code r} with seed
 * {@code firstSeed + r}, each bounded by {@code maxSteps} scheduling decisions, scheduled by
 * {@code strategy} (the explorer's portfolio by default).
 */
public record Budget(int runs, long firstSeed, long maxSteps, StrategySpec strategy) {

    /** The default budget of {@code hmm4j check}. */
    public static final Budget DEFAULT = new Budget(1000, 1, 100_000);

    public Budget {
        if (runs <= 0) throw new IllegalArgumentException("runs must be positive: " + runs);
        if (maxSteps <= 0) throw new IllegalArgumentException("maxSteps must be positive: " + maxSteps);
        Objects.requireNonNull(strategy, "strategy");
    }

    /** A budget explored with the portfolio strategy. */
    public Budget(int runs, long firstSeed, long maxSteps) {
        this(runs, firstSeed, maxSteps, StrategySpec.PORTFOLIO);
    }

    /** This budget with another strategy. */
    public Budget withStrategy(StrategySpec s) {
        return new Budget(runs, firstSeed, maxSteps, s);
    }
}
