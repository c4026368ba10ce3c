package hmm4j.bench;

import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import hmm4j.scenarios.ScenarioRunner;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The explorer's parallel speed-up, measured as honestly as a shared machine allows: one
 * exploration of a known-good scenario (every run executes, none stops it early) with a fixed
 * plan of lanes, repeated with 1, 2, ... N workers. Printed per worker count: the median wall
 * time, runs per second, the speed-up against one worker and the process's CPU use (CPU
 * seconds per wall second: near the worker count when the workers really run at once); with
 * the machine's load average before every measurement, since on a busy machine the figures
 * are the load's as much as the explorer's.
 *
 * <p>Fairness: the worker counts take turns within each round (1, 2, ..., N, then the next
 * round), so a change of the load falls on all of them; each count's figure is its median
 * over the rounds, and each round's speed-up is computed within the round. Honesty: the lanes
 * are fixed (not derived from the worker count), so every worker count explores exactly the
 * same runs, and the program checks that every exploration found the same result (runs done,
 * verdict and coverage): a speed-up bought by doing less or different work is refused.
 *
 * <p>Run with {@code java --add-exports java.base/jdk.internal.vm=ALL-UNNAMED
 * -cp bench/target/hmm4j-benchmarks.jar hmm4j.bench.ParallelScaling
 * [SCENARIO [RUNS [MAX_WORKERS [ROUNDS]]]]}; defaults {@code S5-dmirror-correct}, 2000 runs,
 * the processor count (at least 2), 3 rounds, after one warm-up exploration per count.
 */
public final class ParallelScaling {
    /** Lanes of every exploration: fixed, so all worker counts run the same plan. */
    static final int LANES = 8;

    private ParallelScaling() {
    }

    /** One measured exploration. */
    record Sample(int workers, long wallNanos, long cpuNanos, double loadBefore, long runs, String result) {
    }

    public static void main(String[] args) throws IOException {
        String id = args.length > 0 ? args[0] : "S5-dmirror-correct";
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int maxWorkers = args.length > 2 ? Integer.parseInt(args[2])
                : Math.max(2, java.lang.Runtime.getRuntime().availableProcessors());
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        Scenario scenario = Catalogue.byId(id).orElseThrow(() -> new IllegalArgumentException("no scenario " + id));
        report(System.out, scenario, runs, Math.min(maxWorkers, LANES), rounds);
    }

    static void report(PrintStream out, Scenario scenario, int runs, int maxWorkers, int rounds) throws IOException {
        out.printf(Locale.ROOT, "parallel scaling: %s, %d runs in %d lanes, 1..%d workers, %d rounds, %d processors%n",
                scenario.id(), runs, LANES, maxWorkers, rounds, java.lang.Runtime.getRuntime().availableProcessors());
        out.println("load average at start: " + loadAverage());
        out.println("runtime: " + hmm4j.sim.Kernel.runtimeMode());
        for (int w = 1; w <= maxWorkers; w++) {
            measure(scenario, runs, w); // warm-up
        }
        List<List<Sample>> byWorkers = new ArrayList<>();
        for (int w = 1; w <= maxWorkers; w++) {
            byWorkers.add(new ArrayList<>());
        }
        String expected = null;
        out.printf(Locale.ROOT, "%-6s %-8s %10s %10s %9s %6s%n", "round", "workers", "wall ms", "runs/s", "cpu/wall",
                "load");
        for (int r = 1; r <= rounds; r++) {
            for (int w = 1; w <= maxWorkers; w++) {
                Sample s = measure(scenario, runs, w);
                if (expected == null) {
                    expected = s.result();
                } else if (!expected.equals(s.result())) {
                    throw new IllegalStateException("the exploration with " + w + " workers found " + s.result()
                            + ", with 1 worker " + expected + ": results must not depend on the worker count");
                }
                byWorkers.get(w - 1).add(s);
                out.printf(Locale.ROOT, "%-6d %-8d %10.1f %10.0f %9.2f %6.2f%n", r, w, s.wallNanos() / 1e6,
                        s.runs() * 1e9 / s.wallNanos(), s.cpuNanos() / (double) s.wallNanos(), s.loadBefore());
            }
        }
        out.println("load average at end: " + loadAverage());
        out.printf(Locale.ROOT, "%-8s %12s %10s %14s %22s%n", "workers", "median ms", "runs/s", "speed-up",
                "speed-up per round");
        double one = median(byWorkers.get(0));
        for (int w = 1; w <= maxWorkers; w++) {
            List<Sample> samples = byWorkers.get(w - 1);
            double m = median(samples);
            StringBuilder perRound = new StringBuilder();
            for (int r = 0; r < samples.size(); r++) {
                perRound.append(r == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.2f",
                        byWorkers.get(0).get(r).wallNanos() / (double) samples.get(r).wallNanos()));
            }
            out.printf(Locale.ROOT, "%-8d %12.1f %10.0f %13.2fx %22s%n", w, m / 1e6, runs * 1e9 / m, one / m, perRound);
        }
        out.println("identical results for every worker count: " + expected);
    }

    private static Sample measure(Scenario scenario, int runs, int workers) throws IOException {
        ExploreOptions o = ExploreOptions.defaults().withStrategy(StrategySpec.parse("random")).withRuns(runs)
                .withFirstSeed(1).withLanes(LANES).withWorkers(workers).withMinimise(false);
        double load = loadAverage();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        ExplorationResult r = ScenarioRunner.explore(scenario, o);
        long wall = System.nanoTime() - t0;
        long cpu = os.getProcessCpuTime() - cpu0;
        String result = r.verdictLine() + "; " + r.marks().reached().size() + " marks reached, digest "
                + Integer.toHexString(r.marks().toString().hashCode());
        return new Sample(workers, wall, cpu, load, r.runsDone(), result);
    }

    private static double median(List<Sample> samples) {
        long[] w = samples.stream().mapToLong(Sample::wallNanos).sorted().toArray();
        return w.length % 2 == 1 ? w[w.length / 2] : (w[w.length / 2 - 1] + w[w.length / 2]) / 2.0;
    }

    /** The one-minute load average ({@code /proc/loadavg}, else the JVM's), or -1. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        }
    }
}
