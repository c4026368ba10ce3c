package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.TestOps;
import hmm4j.sim.failure.Failure;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A worker's runs execute inline on one run thread, watched from the worker's own thread
 * ({@link hmm4j.sim.RunWorker}): a run the watchdog gives up is recorded as that run's result
 * and the worker's loop goes on, on another thread, with the runs after it — one runaway and
 * one task blocked outside the model do not end the exploration, cost no other run, and give
 * the same result for one worker as for two.
 */
class RunWorkerTest {

    /**
     * The whole of a worker's runs on one thread: each run's set-up and its tasks on the same
     * run thread (no hand-over, so no wake-up, per run), the same thread for all of a worker's
     * runs, and never the thread that called the explorer.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aWorkersRuns_setUpAndTasks_runOnOneRunThread(int workers) {
        Set<Thread> setUps = ConcurrentHashMap.newKeySet();
        Set<Thread> tasks = ConcurrentHashMap.newKeySet();
        AtomicInteger mismatches = new AtomicInteger();
        ExploreTarget target = ExploreTarget.of("threads", (k, ctx) -> {
            Thread setUp = Thread.currentThread();
            setUps.add(setUp);
            k.spawnKthread("a", self -> {
                tasks.add(Thread.currentThread());
                if (Thread.currentThread() != setUp) {
                    mismatches.incrementAndGet();
                }
                TestOps.point(self.kernel(), "p");
            });
            k.spawnKthread("b", self -> TestOps.point(self.kernel(), "q"));
        });
        ExplorationResult r = Explorer.explore(target, ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM)
                .withRuns(40).withWorkers(workers).withLanes(2));
        assertTrue(r.clean(), r.verdictLine());
        assertEquals(0, mismatches.get(), "runs whose tasks ran on another thread than their set-up");
        assertEquals(setUps, tasks);
        assertTrue(setUps.size() <= workers, setUps.toString());
        assertFalse(setUps.contains(Thread.currentThread()));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void runsGivenUpByTheWatchdog_areRecorded_andTheWorkersLoopGoesOn(int workers) {
        AtomicInteger cleanRuns = new AtomicInteger();
        ExploreTarget target = ExploreTarget.of("sometimes-stuck", (k, ctx) -> {
            int run = ctx.runIndex();
            k.spawnKthread("worker", self -> {
                TestOps.point(self.kernel(), "before");
                if (run == 3 || run == 8) {
                    while (!Thread.currentThread().isInterrupted()) {
                        Thread.onSpinWait(); // a loop without a scheduling point
                    }
                } else if (run == 5) {
                    try {
                        Thread.sleep(60_000); // a real sleep the runtime cannot see; ended by the interrupt
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                } else {
                    cleanRuns.incrementAndGet();
                }
            });
            k.spawnKthread("other", self -> TestOps.point(self.kernel(), "p"));
        });
        String wall = System.getProperty("hmm4j.wallTimeoutMillis");
        String blocked = System.getProperty("hmm4j.blockedMillis");
        try {
            System.setProperty("hmm4j.wallTimeoutMillis", "1500");
            System.setProperty("hmm4j.blockedMillis", "300");
            ExplorationResult r = Explorer.explore(target, ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM)
                    .withRuns(12).withWorkers(workers).withLanes(2).withStopAtFirstFailure(false)
                    .withMinimise(false));
            assertEquals(12, r.runsDone(), r.verdictLine());
            Map<Integer, String> bounds = new TreeMap<>();
            for (FoundFailure f : r.failures()) {
                bounds.put(f.runIndex(), ((Failure.StepBoundExceeded) f.failure().orElseThrow()).bound());
            }
            assertEquals(Map.of(3, "wall-clock time", 5, bounds.get(5), 8, "wall-clock time"), bounds);
            assertTrue(bounds.get(5).contains("outside"), bounds.toString());
            assertEquals(9, cleanRuns.get(), "every other run ran once, to its end");
        } finally {
            restore("hmm4j.wallTimeoutMillis", wall);
            restore("hmm4j.blockedMillis", blocked);
        }
    }

    private static void restore(String name, String old) {
        if (old == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, old);
        }
    }

    /**
     * An exploration whose caller is interrupted (a JUnit timeout, a pool shut down) stops
     * with "interrupted" for any number of workers, and the caller's interrupt is given back:
     * the watchdog takes it off while it watches (a set interrupt would make its every park
     * return at once) and never passes it to the runs, where a task would see it.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void anInterruptedCaller_stopsTheExploration_getsItsInterruptBack_andNoRunSeesIt(int workers) {
        AtomicInteger interruptedTasks = new AtomicInteger();
        AtomicInteger runs = new AtomicInteger();
        Thread caller = Thread.currentThread();
        ExploreTarget target = ExploreTarget.of("interrupted-caller", (k, ctx) -> {
            if (runs.incrementAndGet() == 3) {
                caller.interrupt();
            }
            k.spawnKthread("a", self -> {
                if (Thread.currentThread().isInterrupted()) {
                    interruptedTasks.incrementAndGet();
                }
                TestOps.point(self.kernel(), "p");
            });
            k.spawnKthread("b", self -> TestOps.point(self.kernel(), "q"));
        });
        ExplorationException e;
        try {
            e = org.junit.jupiter.api.Assertions.assertThrows(ExplorationException.class, () -> Explorer.explore(
                    target, ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM).withRuns(1_000_000)
                            .withWorkers(workers).withLanes(2)));
        } finally {
            assertTrue(Thread.interrupted(), "the caller's interrupt is given back (and cleared here)");
        }
        assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
        assertTrue(runs.get() < 1_000_000, "stopped early: " + runs.get());
        assertEquals(0, interruptedTasks.get(), "runs whose task saw the caller's interrupt");
    }
}
