package hmm4j.bench;

import hmm4j.explore.ExplorationContext;
import hmm4j.explore.ExploreTarget;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.ScenarioRunner;
import hmm4j.sim.Kernel;
import hmm4j.sim.RandomWalkStrategy;
import hmm4j.sim.RunResult;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole runs of catalogue scenarios as an exploration's worker runs them: a fresh controlled
 * kernel with the checkers installed (the scenario's explorer target), no trace and sites
 * without code frames, the seeded random walk, the end-of-run checks. The seeds cycle through
 * {@value #SEEDS} values, so the mix of runs, and with it the decisions per run, is the same
 * in every measurement: {@link #decisionsPerRun} counts them once in the set-up, and the cost
 * per decision is the time (or, with {@code -prof gc}, the allocation) per run divided by it.
 *
 * <p>The scenarios are those the performance issue measured: {@code S5-dmirror-correct} (the
 * dmirror device, device pages and migration; about 340 decisions a run),
 * {@code S3a-get-put} (a notifier's get/put lifetime; about 95) and {@code S1-vhost} (a
 * kthread using an mm; about 40): small runs, where a run's fixed set-up cost shows.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class ScenarioRunBench {
    /** The seeds run in turn, from 1. */
    static final int SEEDS = 1000;

    @Param({"S5-dmirror-correct", "S3a-get-put", "S1-vhost"})
    public String scenario;

    private ExploreTarget target;
    private long seed;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        target = ScenarioRunner.target(Catalogue.byId(scenario)
                .orElseThrow(() -> new IllegalArgumentException("no scenario " + scenario)));
        RunResult first = runOnce(target, 1);
        if (!first.clean()) {
            throw new IllegalStateException(scenario + " is expected clean, seed 1 gave " + first.firstFailure());
        }
        System.out.printf("%n%s: %.1f decisions per run over seeds 1..%d%n", scenario,
                decisionsPerRun(target, SEEDS), SEEDS);
    }

    /** One run of {@code target} with {@code seed}, as an exploration's run. */
    static RunResult runOnce(ExploreTarget target, long seed) throws Exception {
        Kernel k = Kernel.builder().seed(seed).strategy(new RandomWalkStrategy(seed)).trace(false).sites(false)
                .siteFrames(false).build();
        target.setup().setUp(k, ExplorationContext.standalone(seed));
        return k.run();
    }

    /** The mean decisions per run over seeds {@code 1..seeds}. */
    static double decisionsPerRun(ExploreTarget target, int seeds) throws Exception {
        long steps = 0;
        for (long s = 1; s <= seeds; s++) {
            steps += runOnce(target, s).steps();
        }
        return steps / (double) seeds;
    }

    /** One whole run; the next invocation takes the next seed. */
    @Benchmark
    public RunResult run() throws Exception {
        seed = seed % SEEDS + 1;
        return runOnce(target, seed);
    }
}
