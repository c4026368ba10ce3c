package hmm4j.bench;

import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.SchedulingPoint;
import hmm4j.sim.Strategy;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.sync.Cell;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of the controlled runtime itself: one scheduling decision against a raw
 * virtual-thread hand-off, and whole explored runs of a small standard scenario.
 *
 * <p>Measured:
 * <ul>
 *   <li>{@link #controlledDecision}: a controlled kernel (trace and code sites off, as the
 *       explorer's runs are) with two tasks that each write a {@code WRITE_ONCE} cell
 *       {@value #HAND_OFFS_PER_TASK} times, scheduled by a strategy that always switches to
 *       the other task, so every scheduling point is a decision <em>and</em> a hand-off
 *       between two virtual threads. Per decision: the scheduling point's name, the enabled
 *       set, the strategy call, the recorded {@code Decision}, the volatile write of
 *       {@code current}, one unpark and one park. Kernel creation and the two threads' start
 *       and end are included and amortised over {@value #HAND_OFFS} decisions.</li>
 *   <li>{@link #rawHandOff} (baseline): two virtual threads that pass control
 *       {@value #HAND_OFFS} times with {@link LockSupport#park}/{@link LockSupport#unpark} on a
 *       volatile turn field, the least a one-task-at-a-time runtime on virtual threads can
 *       do; also started and joined per invocation.</li>
 *   <li>{@link #lostUpdateRun}: one whole run of the lost-update scenario (two tasks, each a
 *       {@code READ_ONCE} then a {@code WRITE_ONCE} of a shared counter, checked at
 *       quiescence), kernel creation included, under the seeded random walk with a new seed
 *       per run, as an exploration does: the inverse is the schedules per second of one
 *       worker. The same bug is what the Lincheck comparison explores
 *       ({@code explore/src/test/.../LincheckComparisonTest}).</li>
 *   <li>{@link #lostUpdateRunsOnVirtualThread}: the same runs driven from a virtual thread,
 *       for reference (see its comment).</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED")
@State(Scope.Thread)
public class SchedulingBench {
    /** Scheduling points per task in the hand-off benchmarks. */
    static final int HAND_OFFS_PER_TASK = 5_000;
    /** Scheduling points (and hand-offs) per invocation of the hand-off benchmarks. */
    static final int HAND_OFFS = 2 * HAND_OFFS_PER_TASK;
    /** The rule the lost-update fixture breaks (a fixture's own, not one of the catalogue). */
    static final Rule LOST_UPDATE = Rule.own("bench.lost-update", FailureKind.INVARIANT_VIOLATION, "lost update");

    /** Runs per invocation of {@link #lostUpdateRunsOnVirtualThread}. */
    static final int RUNS_PER_VIRTUAL_DRIVER = 100;

    private long seed;

    /** Checks once that the measured operation and its baseline do what they claim. */
    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        RunResult r = controlledDecision();
        Machines.check(r.clean(), "the hand-off run failed: " + r.failures());
        // One decision to start, one per point, one per exit (the last exit takes none).
        Machines.check(r.steps() == HAND_OFFS + 2, "decisions: " + r.steps());
        Machines.check(rawHandOff() == HAND_OFFS, "raw hand-offs");
        int found = 0;
        for (int i = 0; i < 200; i++) {
            found += lostUpdateRun().clean() ? 0 : 1;
        }
        Machines.check(found > 0 && found < 200, "the random walk finds the lost update in some runs: " + found);
    }

    /** Always the other task when it can run: every scheduling point hands the machine over. */
    static final class AlwaysSwitch implements Strategy {
        @Override
        public int pick(SchedulingPoint point) {
            int here = point.currentIndex();
            return here < 0 ? 0 : (here + 1) % point.enabled().size();
        }

        @Override
        public String describe() {
            return "always-switch";
        }
    }

    /** {@value #HAND_OFFS} decisions of the controlled runtime, each a hand-off. */
    @Benchmark
    @OperationsPerInvocation(HAND_OFFS)
    public RunResult controlledDecision() {
        Kernel k = Kernel.builder().seed(1).strategy(new AlwaysSwitch()).trace(false).sites(false).build();
        Cell<Integer> shared = new Cell<>(k, "shared", 0);
        for (int t = 0; t < 2; t++) {
            k.spawnKthread("t" + t, self -> {
                for (int i = 0; i < HAND_OFFS_PER_TASK; i++) {
                    shared.writeOnce(i);
                }
            });
        }
        return k.run();
    }

    /** {@value #HAND_OFFS} raw hand-offs between two virtual threads; returns their count. */
    @Benchmark
    @OperationsPerInvocation(HAND_OFFS)
    public int rawHandOff() throws InterruptedException {
        HandOff h = new HandOff();
        Thread a = Thread.ofVirtual().unstarted(() -> h.loop(0));
        Thread b = Thread.ofVirtual().unstarted(() -> h.loop(1));
        h.threads[0] = a;
        h.threads[1] = b;
        a.start();
        b.start();
        a.join();
        b.join();
        return h.passes;
    }

    /** Two threads passing a turn; each passes {@value #HAND_OFFS_PER_TASK} times. */
    private static final class HandOff {
        final Thread[] threads = new Thread[2];
        volatile int turn;
        int passes;

        void loop(int me) {
            Thread other = threads[1 - me];
            for (int i = 0; i < HAND_OFFS_PER_TASK; i++) {
                while (turn != me) {
                    LockSupport.park(this);
                }
                passes++;
                turn = 1 - me;
                LockSupport.unpark(other);
            }
        }
    }

    /**
     * {@value #RUNS_PER_VIRTUAL_DRIVER} whole runs of the lost-update scenario, driven from one
     * virtual thread instead of the JMH (platform) thread: the driver's hand-offs to the first
     * task and back from the last one then stay among virtual threads, with no platform thread
     * to wake. For reference: what an explorer whose workers are virtual threads would gain.
     */
    @Benchmark
    @OperationsPerInvocation(RUNS_PER_VIRTUAL_DRIVER)
    public int lostUpdateRunsOnVirtualThread() throws InterruptedException {
        int[] clean = new int[1];
        Thread driver = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < RUNS_PER_VIRTUAL_DRIVER; i++) {
                clean[0] += lostUpdateRun().clean() ? 1 : 0;
            }
        });
        driver.join();
        return clean[0];
    }

    /** One whole run of the lost-update scenario under the random walk, kernel creation included. */
    @Benchmark
    public RunResult lostUpdateRun() {
        Kernel k = Kernel.builder().seed(++seed).trace(false).sites(false).build();
        Cell<Integer> count = new Cell<>(k, "count", 0);
        for (int t = 0; t < 2; t++) {
            k.spawnKthread("inc" + t, self -> {
                int v = count.readOnce();
                count.writeOnce(v + 1);
            });
        }
        k.atQuiescence("count is 2", () -> {
            if (count.peek() != 2) {
                k.report(new Failure.InvariantViolation(LOST_UPDATE, "count is " + count.peek() + ", expected 2",
                        k.site()));
            }
        });
        return k.run();
    }
}
