package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A real AB-BA deadlock: what the runtime reports alone, and what lockdep reports first. */
class DeadlockTest {

    private static final int SEEDS = 200;

    /** Two tasks racing, one taking a then b, the other b then a. */
    private static Kernel abBa(long seed, boolean lockdep) {
        Kernel k = Kernel.controlled(seed);
        if (lockdep) {
            Checkers.install(k);
        }
        Mutex a = new Mutex(k, "A", "a");
        Mutex b = new Mutex(k, "B", "b");
        k.spawnKthread("t1", self -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
        });
        k.spawnKthread("t2", self -> {
            b.lock();
            a.lock();
            a.unlock();
            b.unlock();
        });
        return k;
    }

    /** The first seed on which the runtime alone ends in a deadlock. */
    private static long firstDeadlockingSeed() {
        for (long seed = 0; seed < SEEDS; seed++) {
            if (abBa(seed, false).run().firstFailure().orElse(null) instanceof Failure.Deadlock) {
                return seed;
            }
        }
        throw new AssertionError("no seed below " + SEEDS + " deadlocks");
    }

    @Test
    void withoutLockdep_theRuntimeReportsTheDeadlockWithBothBlockedTasks() {
        long seed = firstDeadlockingSeed();
        RunResult r = abBa(seed, false).run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.Deadlock d = assertInstanceOf(Failure.Deadlock.class, r.failures().get(0));
        assertEquals(2, d.blocked().size(), d.blocked().toString());
        assertTrue(d.blocked().contains("t1 blocked on mutex_lock(b) held by t2"), d.blocked().toString());
        assertTrue(d.blocked().contains("t2 blocked on mutex_lock(a) held by t1"), d.blocked().toString());
    }

    @Test
    void withoutLockdep_mostSchedulesLookFine() {
        List<Long> clean = new ArrayList<>();
        List<Long> deadlocked = new ArrayList<>();
        for (long seed = 0; seed < SEEDS; seed++) {
            RunResult r = abBa(seed, false).run();
            if (r.clean()) {
                clean.add(seed);
            } else {
                assertInstanceOf(Failure.Deadlock.class, r.failures().get(0));
                deadlocked.add(seed);
            }
        }
        assertTrue(!clean.isEmpty() && !deadlocked.isEmpty(), "clean " + clean + ", deadlocked " + deadlocked);
    }

    @Test
    void withLockdep_theCycleIsReportedBeforeTheDeadlock() {
        long seed = firstDeadlockingSeed();
        RunResult r = abBa(seed, true).run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        // Both tasks hold their first lock; the second one to ask for its second lock closes
        // the cycle in lockdep before it blocks, so the deadlock itself is never reached.
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, r.failures().get(0));
        String other = c.site().task().equals("t1") ? "t2" : "t1";
        assertTrue(c.existingLines().get(0).contains(" at " + other + " @ step "), c.existingChain().toString());
        assertTrue(c.held().equals("A") && c.acquiring().equals("B")
                || c.held().equals("B") && c.acquiring().equals("A"), c.headline());
    }

    @Test
    void withLockdep_everyScheduleReportsTheCycle() {
        for (long seed = 0; seed < SEEDS; seed++) {
            RunResult r = abBa(seed, true).run();
            assertEquals(1, r.failures().size(), "seed " + seed + ": " + r.failures());
            assertInstanceOf(Failure.LockOrderCycle.class, r.failures().get(0), "seed " + seed);
        }
    }
}
