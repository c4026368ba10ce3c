package hmm4j.bench;

import hmm4j.check.Checkers;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import hmm4j.sim.Kernel;
import hmm4j.sim.RandomWalkStrategy;
import hmm4j.sim.RunResult;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Whole runs of a catalogue scenario in batches that alternate the controlled runtime's two
 * modes in one JVM ({@code hmm4j.runtime} is read per run): process CPU time and wall time
 * per decision, median and best of the batches. On a shared, loaded machine CPU time moves
 * far less than wall time, and alternating batches in one JVM puts both modes under the
 * same load; docs/performance.md ("The runtime on one thread") has its figures.
 *
 * <p>{@code java --add-exports java.base/jdk.internal.vm=ALL-UNNAMED -cp
 * bench/target/hmm4j-benchmarks.jar hmm4j.bench.RuntimeModesProbe S5-dmirror-correct 300 8}
 * (scenario, runs per batch, batches per mode).
 */
public final class RuntimeModesProbe {
    private RuntimeModesProbe() {
    }

    private static long batch(Scenario s, int runs) {
        long steps = 0;
        for (int i = 1; i <= runs; i++) {
            long seed = i % 1000 + 1;
            Kernel k = Kernel.builder().seed(seed).strategy(new RandomWalkStrategy(seed)).trace(false).sites(false)
                    .build();
            Checkers.install(k);
            s.setUp(k);
            RunResult r = k.run();
            Machines.check(r.clean(), "seed " + seed + ": " + r.failures());
            steps += r.steps();
        }
        return steps;
    }

    /**
     * Runs the probe.
     *
     * @param args scenario id, runs per batch, batches per mode
     */
    public static void main(String[] args) {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Scenario s = Catalogue.byId(args[0]).orElseThrow();
        int runs = Integer.parseInt(args[1]);
        int batches = Integer.parseInt(args[2]);
        String[] modes = {"continuations", "threads"};
        for (String m : modes) {
            System.setProperty("hmm4j.runtime", m);
            batch(s, runs);
            batch(s, runs);
        }
        List<List<Double>> cpu = List.of(new ArrayList<>(), new ArrayList<>());
        List<List<Double>> wall = List.of(new ArrayList<>(), new ArrayList<>());
        for (int b = 0; b < batches; b++) {
            for (int m = 0; m < modes.length; m++) {
                System.setProperty("hmm4j.runtime", modes[m]);
                long c0 = os.getProcessCpuTime();
                long w0 = System.nanoTime();
                long steps = batch(s, runs);
                cpu.get(m).add((os.getProcessCpuTime() - c0) / (double) steps);
                wall.get(m).add((System.nanoTime() - w0) / (double) steps);
            }
        }
        for (int m = 0; m < modes.length; m++) {
            List<Double> c = cpu.get(m);
            List<Double> w = wall.get(m);
            Collections.sort(c);
            Collections.sort(w);
            System.out.printf("%s %s: CPU per decision median %.0f ns (best %.0f), wall median %.0f ns (best %.0f)%n",
                    args[0], modes[m], c.get(c.size() / 2), c.get(0), w.get(w.size() / 2), w.get(0));
        }
    }
}
