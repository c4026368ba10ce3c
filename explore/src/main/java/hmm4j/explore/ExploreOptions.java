package hmm4j.explore;

import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.HiddenFromSites;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How to explore: the strategy, the budget (runs, wall-clock time, steps per run), where
 * the seeds start, how to split the work (workers, lanes, shard) and what to do with a
 * failure. Immutable; start from {@link #defaults()} and change with the {@code with...}
 * methods.
 *
 * <p>Run {@code r} (from 0) has seed {@code firstSeed + r}. The result of an exploration is a
 * function of the target, strategy, first seed, runs, lanes and shard; the number of
 * workers only changes how fast it comes. A wall-clock budget ends the exploration early,
 * so which runs are done then depends on the machine.
 *
 * @param strategy           the strategy ({@code portfolio} by default)
 * @param runs               run indices {@code [0, runs)} form the run space (of all shards together)
 * @param firstSeed          the seed of run 0
 * @param timeBudget         wall-clock budget, or null for none
 * @param maxSteps           scheduling decisions allowed per run; a run that exceeds it is
 *                           reported as a livelock ({@code StepBoundExceeded})
 * @param workers            worker threads, one kernel each (default: available processors)
 * @param lanes              sequences of runs that share objects ({@link ExplorationContext});
 *                           at most this many workers are busy at once
 * @param shard              the part of the run space this exploration covers
 * @param outDir             where failure files are written, or null for none
 * @param stopAtFirstFailure stop at the first (lowest-index) failing run (default), or run the
 *                           whole budget and list every failing run
 * @param minimise           minimise the first failing schedule's preemptions (default true)
 * @param progress           hears about progress (default: nothing)
 */
@HiddenFromSites
public record ExploreOptions(StrategySpec strategy, int runs, long firstSeed, Duration timeBudget, long maxSteps,
                             int workers, int lanes, Shard shard, Path outDir, boolean stopAtFirstFailure,
                             boolean minimise, ProgressListener progress) {

    /**
     * Runs of an exploration bounded by its time budget only ({@code --time} without
     * {@code --runs}): the largest run space.
     */
    public static final int UNBOUNDED_RUNS = Integer.MAX_VALUE;

    /** Default runs of an exploration. */
    public static final int DEFAULT_RUNS = 1000;
    /** Default seed of run 0. */
    public static final long DEFAULT_FIRST_SEED = 1;
    /** Default scheduling decisions per run. */
    public static final long DEFAULT_MAX_STEPS = 100_000;
    /** Default number of lanes. */
    public static final int DEFAULT_LANES = 16;

    public ExploreOptions {
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(progress, "progress");
        if (runs <= 0) throw new IllegalArgumentException("runs must be positive: " + runs);
        if (maxSteps <= 0) throw new IllegalArgumentException("max steps must be positive: " + maxSteps);
        if (workers <= 0) throw new IllegalArgumentException("workers must be positive: " + workers);
        if (lanes <= 0) throw new IllegalArgumentException("lanes must be positive: " + lanes);
        if (timeBudget != null && (timeBudget.isNegative() || timeBudget.isZero())) {
            throw new IllegalArgumentException("time budget must be positive: " + timeBudget);
        }
        if (strategy.sequential() && shard.count() > 1) {
            throw new IllegalArgumentException(strategy.text() + " cannot be sharded: its runs depend on each other");
        }
    }

    /** Portfolio, {@value #DEFAULT_RUNS} runs from seed {@value #DEFAULT_FIRST_SEED}, all processors. */
    public static ExploreOptions defaults() {
        return new ExploreOptions(StrategySpec.PORTFOLIO, DEFAULT_RUNS, DEFAULT_FIRST_SEED, null, DEFAULT_MAX_STEPS,
                java.lang.Runtime.getRuntime().availableProcessors(), DEFAULT_LANES, Shard.ALL, null, true, true,
                ProgressListener.NONE);
    }

    public ExploreOptions withStrategy(StrategySpec s) {
        return new ExploreOptions(s, runs, firstSeed, timeBudget, maxSteps, workers, lanes, shard, outDir,
                stopAtFirstFailure, minimise, progress);
    }

    public ExploreOptions withRuns(int n) {
        return new ExploreOptions(strategy, n, firstSeed, timeBudget, maxSteps, workers, lanes, shard, outDir,
                stopAtFirstFailure, minimise, progress);
    }

    public ExploreOptions withFirstSeed(long seed) {
        return new ExploreOptions(strategy, runs, seed, timeBudget, maxSteps, workers, lanes, shard, outDir,
                stopAtFirstFailure, minimise, progress);
    }

    /** With a wall-clock budget, or none for null. */
    public ExploreOptions withTimeBudget(Duration budget) {
        return new ExploreOptions(strategy, runs, firstSeed, budget, maxSteps, workers, lanes, shard, outDir,
                stopAtFirstFailure, minimise, progress);
    }

    public ExploreOptions withMaxSteps(long steps) {
        return new ExploreOptions(strategy, runs, firstSeed, timeBudget, steps, workers, lanes, shard, outDir,
                stopAtFirstFailure, minimise, progress);
    }

    public ExploreOptions withWorkers(int n) {
        return new ExploreOptions(strategy, runs, firstSeed, timeBudget, maxSteps, n, lanes, shard, outDir,
                stopAtFirstFailure, minimise, progress);
    }

    public ExploreOptions withLanes(int n) {
        return new ExploreOptions(strategy, runs, firstSeed, timeBudget, maxSteps, workers, n, shard, outDir,
                stopAtFirstFailure, minimise, progress);
    }

    public ExploreOptions withShard(Shard s) {
        return new ExploreOptions(strategy, runs, firstSeed, timeBudget, maxSteps, workers, lanes, s, outDir,
                stopAtFirstFailure, minimise, progress);
    }

    /** With failure files written to {@code dir}, or none for null. */
    public ExploreOptions withOutDir(Path dir) {
        return new ExploreOptions(strategy, runs, firstSeed, timeBudget, maxSteps, workers, lanes, shard, dir,
                stopAtFirstFailure, minimise, progress);
    }

    public ExploreOptions withStopAtFirstFailure(boolean stop) {
        return new ExploreOptions(strategy, runs, firstSeed, timeBudget, maxSteps, workers, lanes, shard, outDir,
                stop, minimise, progress);
    }

    public ExploreOptions withMinimise(boolean m) {
        return new ExploreOptions(strategy, runs, firstSeed, timeBudget, maxSteps, workers, lanes, shard, outDir,
                stopAtFirstFailure, m, progress);
    }

    public ExploreOptions withProgress(ProgressListener p) {
        return new ExploreOptions(strategy, runs, firstSeed, timeBudget, maxSteps, workers, lanes, shard, outDir,
                stopAtFirstFailure, minimise, p);
    }

    /** The lanes actually used: one for a sequential strategy (DFS). */
    public int effectiveLanes() {
        return strategy.sequential() ? 1 : lanes;
    }

    /** The runs of this shard within the budget. */
    public long plannedRuns() {
        return shard.runsBelow(runs);
    }
}
