package hmm4j.sim.sync;

import static hmm4j.sim.sync.SyncTestSupport.onlyFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MutexTest {

    @Test
    void unlockByNonOwner_isReported() {
        Kernel k = Kernel.controlled(1);
        Mutex m = new Mutex(k, "m");
        Completion held = new Completion(k, "held");
        k.spawnKthread("owner", self -> {
            m.lock();
            held.complete();
        });
        k.spawnKthread("other", self -> {
            held.waitForCompletion();
            m.unlock();
        });
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.UNLOCK_BY_HOLDER, v.rule());
        assertTrue(v.detail().startsWith("mutex_unlock of a mutex not held: "), v.detail());
        assertTrue(v.detail().contains("held by owner"), v.detail());
        assertTrue(v.detail().contains("unlocked by other"), v.detail());
    }

    @Test
    void trylock_failsWhenHeld_succeedsWhenFree() {
        for (long seed = 0; seed < 20; seed++) {
            Kernel k = Kernel.controlled(seed);
            Mutex m = new Mutex(k, "m");
            Completion held = new Completion(k, "held");
            Completion tried = new Completion(k, "tried");
            Completion released = new Completion(k, "released");
            List<Boolean> results = new ArrayList<>();
            k.spawnKthread("owner", self -> {
                m.lock();
                results.add(self.inAtomicContext()); // a mutex is not atomic context
                held.complete();
                tried.waitForCompletion();
                m.unlock();
                released.complete();
            });
            k.spawnKthread("trier", self -> {
                held.waitForCompletion();
                results.add(m.trylock());
                results.add(m.heldByCurrent());
                tried.complete();
                released.waitForCompletion();
                results.add(m.trylock());
                m.assertHeld();
                results.add(m.heldByCurrent());
                m.unlock();
                results.add(m.isLocked());
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of(false, false, false, true, true, false), results, "seed " + seed);
        }
    }

    @Test
    void assertHeld_reportsWhenNotHeld() {
        Kernel k = Kernel.controlled(3);
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("t", self -> m.assertHeld());
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
        assertTrue(v.detail().startsWith("lockdep_assert_held(m): "), v.detail());
        assertTrue(v.detail().contains("not held by t"), v.detail());
    }

    @Test
    void selfDeadlock_onRecursiveLock_isReported() {
        Kernel k = Kernel.controlled(4);
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("t", self -> {
            m.lock();
            m.lock();
        });
        Failure.Deadlock d = onlyFailure(k.run(), Failure.Deadlock.class);
        assertEquals(1, d.blocked().size());
        assertTrue(d.blocked().get(0).startsWith("t blocked on mutex_lock(m) held by t"), d.blocked().toString());
    }
}
