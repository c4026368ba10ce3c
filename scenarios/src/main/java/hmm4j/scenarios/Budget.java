package hmm4j.scenarios;

/**
 * How much to explore a scenario: {@code runs} seeds starting at {@code firstSeed}, each run
 * bounded by {@code maxSteps} scheduling decisions.
 */
public record Budget(int runs, long firstSeed, long maxSteps) {

    /** The default budget of {@code hmm4j check}. */
    public static final Budget DEFAULT = new Budget(1000, 1, 100_000);

    public Budget {
        if (runs <= 0) throw new IllegalArgumentException("runs must be positive: " + runs);
        if (maxSteps <= 0) throw new IllegalArgumentException("maxSteps must be positive: " + maxSteps);
    }
}
