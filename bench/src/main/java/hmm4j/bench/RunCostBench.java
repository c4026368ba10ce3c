package hmm4j.bench;

import hmm4j.check.Checkers;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import hmm4j.sim.Kernel;
import hmm4j.sim.RandomWalkStrategy;
import hmm4j.sim.RunResult;
import hmm4j.sim.RunWorker;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole explored runs of catalogue scenarios, per run, against the floor of any Java
 * controlled scheduler measured in the same JVM: one {@code jdk.internal.vm.Continuation}
 * run/yield pair.
 *
 * <p>Measured:
 * <ul>
 *   <li>{@link #run}: one run of the scenario {@link #scenario} as an exploration runs it
 *       (a fresh kernel with the checkers, the seeded random walk, no trace, sites without
 *       code frames: an exploration's {@code BARE} recording),
 *       set-up included, with a new seed per run cycling over {@value #SEEDS} seeds. The
 *       trial's set-up prints the mean decisions per run over those seeds
 *       ({@code decisions/run}), so the cost and the allocation ({@code -prof gc},
 *       {@code gc.alloc.rate.norm}) per decision are the per-run figures divided by it;</li>
 *   <li>{@link #workerRuns}: the same runs as an explorer's worker executes them, all on one
 *       run thread without a thread wake-up per run ({@link RunWorker}), per run;</li>
 *   <li>{@link #continuationFloor}: {@value #SWITCHES} run/yield pairs of one continuation,
 *       per pair;</li>
 *   <li>{@link Threads}: the same runs with the controlled runtime on virtual threads
 *       ({@code -Dhmm4j.runtime=threads}), the runtime's other mode, for the ratio in the
 *       same run.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED")
@State(Scope.Thread)
public class RunCostBench {
    static final int SEEDS = 1000;
    static final int SWITCHES = 100_000;

    @Param({"S5-dmirror-correct", "S3a-get-put", "S1-vhost"})
    public String scenario;

    private Scenario target;
    private long seed;

    private static final MethodHandle NEW;
    private static final MethodHandle RUN;
    private static final MethodHandle YIELD;
    private static final Object SCOPE;

    static {
        MethodHandle create = null;
        MethodHandle run = null;
        MethodHandle yield = null;
        Object scope = null;
        try {
            Class<?> cont = Class.forName("jdk.internal.vm.Continuation");
            Class<?> scopeClass = Class.forName("jdk.internal.vm.ContinuationScope");
            MethodHandles.Lookup l = MethodHandles.lookup();
            scope = l.findConstructor(scopeClass, MethodType.methodType(void.class, String.class)).invoke("bench");
            create = l.findConstructor(cont, MethodType.methodType(void.class, scopeClass, Runnable.class))
                    .asType(MethodType.methodType(Object.class, Object.class, Runnable.class));
            run = l.findVirtual(cont, "run", MethodType.methodType(void.class))
                    .asType(MethodType.methodType(void.class, Object.class));
            yield = l.findStatic(cont, "yield", MethodType.methodType(boolean.class, scopeClass))
                    .asType(MethodType.methodType(boolean.class, Object.class));
        } catch (Throwable e) {
            // Without the export the floor is not measured (continuationFloor says so).
        }
        NEW = create;
        RUN = run;
        YIELD = yield;
        SCOPE = scope;
    }

    @Setup(Level.Trial)
    public void setUp() {
        target = Catalogue.byId(scenario).orElseThrow();
        long steps = 0;
        for (int s = 1; s <= SEEDS; s++) {
            RunResult r = runOnce(s);
            Machines.check(r.clean(), scenario + " seed " + s + ": " + r.failures());
            steps += r.steps();
        }
        System.out.printf("decisions/run %s %.2f%n", scenario, (double) steps / SEEDS);
    }

    private RunResult runOnce(long s) {
        Kernel k = Kernel.builder().seed(s).strategy(new RandomWalkStrategy(s)).trace(false).sites(false)
                .siteFrames(false).build();
        Checkers.install(k);
        target.setUp(k);
        return k.run();
    }

    /** One exploration-like run, set-up included. */
    @Benchmark
    public RunResult run() {
        seed = seed % SEEDS + 1;
        return runOnce(seed);
    }

    /** Runs per invocation of {@link #workerRuns}. */
    static final int WORKER_BATCH = 50;

    /**
     * {@value #WORKER_BATCH} runs as an explorer's worker runs them ({@link RunWorker}): all on
     * one run thread, each inline, watched from the benchmark's thread; per run. {@link #run}
     * hands each run to a run thread and back (two thread wake-ups), as a single run outside
     * an exploration does.
     */
    @Benchmark
    @OperationsPerInvocation(WORKER_BATCH)
    public long workerRuns() {
        long[] steps = new long[1];
        RunWorker.run(() -> {
            for (int i = 0; i < WORKER_BATCH; i++) {
                steps[0] += run().steps();
            }
        }, (k, r) -> {
            throw new IllegalStateException("a benchmark run was given up: " + r.failures());
        }, () -> {
        });
        return steps[0];
    }

    /** {@value #SWITCHES} continuation run/yield pairs: the floor of a controlled scheduler in Java. */
    @Benchmark
    @OperationsPerInvocation(SWITCHES)
    public long continuationFloor() throws Throwable {
        Machines.check(NEW != null, "the JVM does not export jdk.internal.vm");
        long[] count = new long[1];
        Object c = (Object) NEW.invokeExact(SCOPE, (Runnable) () -> {
            while (true) {
                count[0]++;
                try {
                    boolean y = (boolean) YIELD.invokeExact(SCOPE);
                    Machines.check(y, "pinned");
                } catch (Throwable e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        for (int i = 0; i < SWITCHES; i++) {
            RUN.invokeExact(c);
        }
        return count[0];
    }

    /** The same runs with the controlled runtime on virtual threads. */
    @Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED", "-Dhmm4j.runtime=threads"})
    public static class Threads extends RunCostBench {
    }
}
