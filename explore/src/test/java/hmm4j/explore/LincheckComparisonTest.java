package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * hmm4j's explorer against Lincheck's model checker on the same small bug, measured in the
 * same JVM: time to first failure and schedules per second (docs/performance.md, "The
 * explorer against Lincheck").
 *
 * <p>The program: two threads each increment a shared counter once, by a read and then a
 * write (the lost update); its correct twin does the same under a lock, three increments
 * per thread, so that the space has more than a handful of interleavings. On hmm4j's
 * substrate it is two tasks over a {@code READ_ONCE}/{@code WRITE_ONCE} {@link Cell} (and a
 * {@link Mutex}), checked at quiescence, explored by {@link Explorer#explore} with the random
 * walk on one worker; for Lincheck it is {@link LincheckCounters} in plain
 * {@code java.util.concurrent}, checked for linearizability by {@link ModelCheckingOptions}
 * with two threads, one (or three) {@code inc()} per thread and nothing before or after.
 *
 * <p>Measured, per tool: the wall time of the whole call that finds the bug and reports it
 * (hmm4j: the exploration, including the traced replay of the failing run, without
 * minimisation; Lincheck: {@code check()} until it throws, without scenario minimisation),
 * the first call in this JVM ("cold": Lincheck attaches its agent and instruments classes
 * then) and the median of the next ones ("warm"); the schedules run until the failure; and
 * the schedules per second on the correct twin. Lincheck's schedules are its invocations,
 * counted as instances of the test class (one per invocation).
 *
 * <p>Not part of {@code mvn verify}: tagged {@code lincheck}, which the explore module's
 * Surefire configuration excludes by default (Lincheck attaches a Java agent and the
 * comparison takes ~20 s). Run it with {@code mvn -B -pl explore -Plincheck test}; the table
 * goes to standard output (kept in {@code target/surefire-reports}) and to
 * {@code explore/target/lincheck-comparison.md}. Its assertions are about findings only:
 * performance is measured, never asserted.
 */
@Tag("lincheck")
class LincheckComparisonTest {
    /** Warm repetitions of each measurement. */
    private static final int REPEATS = 5;
    /** Schedule budget of the correct twin (both tools; Lincheck stops earlier when it has seen every interleaving). */
    private static final int TWIN_SCHEDULES = 2_000;
    /** Increments per thread in the correct twin. */
    private static final int TWIN_INCREMENTS = 3;

    /** The lost update on the substrate: two tasks, a read and a write each; the count must be 2. */
    static ExploreTarget lostUpdate() {
        return ExploreTarget.of("lost-update", (k, ctx) -> counter(k, 1, false));
    }

    /** The correct twin: {@value #TWIN_INCREMENTS} locked increments per task. */
    static ExploreTarget lockedTwin() {
        return ExploreTarget.of("locked-update", (k, ctx) -> counter(k, TWIN_INCREMENTS, true));
    }

    private static void counter(Kernel k, int increments, boolean locked) {
        Mutex lock = new Mutex(k, "lock");
        Cell<Integer> count = new Cell<>(k, "count", 0);
        for (int t = 0; t < 2; t++) {
            k.spawnKthread("inc" + t, self -> {
                for (int i = 0; i < increments; i++) {
                    if (locked) {
                        lock.lock();
                    }
                    int v = count.readOnce();
                    count.writeOnce(v + 1);
                    if (locked) {
                        lock.unlock();
                    }
                }
            });
        }
        k.atQuiescence("no lost update", () -> {
            if (count.peek() != 2 * increments) {
                k.report(new Failure.InvariantViolation(ClassicBugs.testRule("lost update"),
                        "count is " + count.peek() + ", expected " + 2 * increments, k.site()));
            }
        });
    }

    private static ExploreOptions hmm4jOptions(int runs) {
        return ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM).withRuns(runs).withWorkers(1)
                .withMinimise(false);
    }

    private static ModelCheckingOptions lincheckOptions(int invocations, int actorsPerThread) {
        return new ModelCheckingOptions().iterations(1).invocationsPerIteration(invocations).threads(2)
                .actorsPerThread(actorsPerThread).actorsBefore(0).actorsAfter(0).minimizeFailedScenario(false);
    }

    /** One timed search for the bug: wall time and schedules until it was reported. */
    record Find(long nanos, long schedules) {
    }

    /** One timed exploration of the correct twin: wall time and schedules run. */
    record Sweep(long nanos, long schedules) {
        double perSecond() {
            return schedules / (nanos / 1e9);
        }
    }

    private static Find hmm4jFind() {
        long start = System.nanoTime();
        ExplorationResult r = Explorer.explore(lostUpdate(), hmm4jOptions(10_000));
        long nanos = System.nanoTime() - start;
        assertEquals(FailureKind.INVARIANT_VIOLATION, r.failure().orElseThrow().failure().orElseThrow().kind());
        return new Find(nanos, r.runsDone());
    }

    private static Sweep hmm4jSweep() {
        long start = System.nanoTime();
        ExplorationResult r = Explorer.explore(lockedTwin(), hmm4jOptions(TWIN_SCHEDULES));
        long nanos = System.nanoTime() - start;
        assertTrue(r.clean(), () -> r.failure().orElseThrow().headline());
        return new Sweep(nanos, r.runsDone());
    }

    private static Find lincheckFind() {
        long before = LincheckCounters.LostUpdate.INSTANCES.get();
        long start = System.nanoTime();
        AssertionError e = assertThrows(AssertionError.class,
                () -> lincheckOptions(10_000, 1).check(LincheckCounters.LostUpdate.class));
        long nanos = System.nanoTime() - start;
        assertTrue(String.valueOf(e.getMessage()).contains("Invalid execution results"), e.getMessage());
        return new Find(nanos, LincheckCounters.LostUpdate.INSTANCES.get() - before);
    }

    private static Sweep lincheckSweep() {
        AtomicLong instances = LincheckCounters.Locked.INSTANCES;
        long before = instances.get();
        long start = System.nanoTime();
        lincheckOptions(TWIN_SCHEDULES, TWIN_INCREMENTS).check(LincheckCounters.Locked.class);
        long nanos = System.nanoTime() - start;
        return new Sweep(nanos, instances.get() - before);
    }

    @Test
    void sameBug_hmm4jAndLincheck_sideBySide() throws IOException {
        // hmm4j first, so that Lincheck's agent cannot have touched the classes it measures.
        Find hmm4jCold = hmm4jFind();
        List<Find> hmm4jWarm = repeat(LincheckComparisonTest::hmm4jFind);
        Sweep hmm4jSweep = median(repeatSweeps(LincheckComparisonTest::hmm4jSweep));
        Find lincheckCold = lincheckFind();
        List<Find> lincheckWarm = repeat(LincheckComparisonTest::lincheckFind);
        Sweep lincheckSweep = median(repeatSweeps(LincheckComparisonTest::lincheckSweep));

        long hmm4jWarmNanos = medianNanos(hmm4jWarm);
        long lincheckWarmNanos = medianNanos(lincheckWarm);
        String table = String.join("\n",
                "| lost update, 2 threads x 1 increment | hmm4j (explorer, random, 1 worker) | Lincheck "
                        + "3.7 (model checking) | hmm4j faster by |",
                "|---|---|---|---|",
                row("time to first failure, first call in the JVM", ms(hmm4jCold.nanos()), ms(lincheckCold.nanos()),
                        lincheckCold.nanos() / (double) hmm4jCold.nanos()),
                row("time to first failure, warm (median of " + REPEATS + ")", ms(hmm4jWarmNanos),
                        ms(lincheckWarmNanos), lincheckWarmNanos / (double) hmm4jWarmNanos),
                "| schedules to first failure (warm) | " + schedules(hmm4jWarm) + " | " + schedules(lincheckWarm)
                        + " | |",
                row("schedules/s, correct twin (2 x " + TWIN_INCREMENTS + " locked increments; "
                                + hmm4jSweep.schedules() + " vs " + lincheckSweep.schedules() + " schedules)",
                        String.format(Locale.ROOT, "%,.0f/s", hmm4jSweep.perSecond()),
                        String.format(Locale.ROOT, "%,.0f/s", lincheckSweep.perSecond()),
                        hmm4jSweep.perSecond() / lincheckSweep.perSecond()),
                "");
        System.out.println(table);
        Path out = Path.of("target", "lincheck-comparison.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, "JDK " + System.getProperty("java.version") + ", "
                + java.lang.Runtime.getRuntime().availableProcessors() + " CPUs\n\n" + table, StandardCharsets.UTF_8);
        assertTrue(hmm4jSweep.schedules() == TWIN_SCHEDULES, "hmm4j ran its whole budget");
        assertTrue(lincheckSweep.schedules() > 0, "Lincheck ran the correct twin");
    }

    private static List<Find> repeat(java.util.function.Supplier<Find> measure) {
        List<Find> all = new ArrayList<>();
        for (int i = 0; i < REPEATS; i++) {
            all.add(measure.get());
        }
        return all;
    }

    private static List<Sweep> repeatSweeps(java.util.function.Supplier<Sweep> measure) {
        List<Sweep> all = new ArrayList<>();
        for (int i = 0; i < REPEATS; i++) {
            all.add(measure.get());
        }
        return all;
    }

    private static long medianNanos(List<Find> finds) {
        long[] a = finds.stream().mapToLong(Find::nanos).sorted().toArray();
        return a[a.length / 2];
    }

    private static Sweep median(List<Sweep> sweeps) {
        List<Sweep> sorted = new ArrayList<>(sweeps);
        sorted.sort((a, b) -> Double.compare(a.perSecond(), b.perSecond()));
        return sorted.get(sorted.size() / 2);
    }

    private static String schedules(List<Find> finds) {
        long min = finds.stream().mapToLong(Find::schedules).min().orElse(0);
        long max = finds.stream().mapToLong(Find::schedules).max().orElse(0);
        return min == max ? String.valueOf(min) : min + "-" + max;
    }

    private static String row(String what, String hmm4j, String lincheck, double faster) {
        return "| " + what + " | " + hmm4j + " | " + lincheck + " | "
                + String.format(Locale.ROOT, "%,.1fx", faster) + " |";
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%,.2f ms", nanos / 1e6);
    }
}
