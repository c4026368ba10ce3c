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

class SpinLockTest {

    @Test
    void unlockByNonOwner_isReported() {
        Kernel k = Kernel.controlled(1);
        SpinLock l = new SpinLock(k, "lk");
        Completion held = new Completion(k, "held");
        k.spawnKthread("owner", self -> {
            l.lock();
            held.complete();
        });
        k.spawnKthread("other", self -> {
            held.waitForCompletion();
            l.unlock();
        });
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.UNLOCK_BY_HOLDER, v.rule());
        assertTrue(v.detail().startsWith("spin_unlock of a lock not held: "), v.detail());
        assertTrue(v.detail().contains("held by owner"), v.detail());
        assertEquals("other", v.site().task());
    }

    @Test
    void unlockOfFreeLock_isReported() {
        Kernel k = Kernel.controlled(2);
        SpinLock l = new SpinLock(k, "lk");
        k.spawnKthread("t", self -> l.unlock());
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.UNLOCK_BY_HOLDER, v.rule());
        assertTrue(v.detail().startsWith("spin_unlock of a lock not held: "), v.detail());
    }

    @Test
    void trylock_failsWhenHeld_succeedsWhenFree_andMarksAtomicContext() {
        for (long seed = 0; seed < 20; seed++) {
            Kernel k = Kernel.controlled(seed);
            SpinLock l = new SpinLock(k, "lk");
            Completion held = new Completion(k, "held");
            Completion tried = new Completion(k, "tried");
            Completion released = new Completion(k, "released");
            List<Boolean> results = new ArrayList<>();
            k.spawnKthread("owner", self -> {
                l.lock();
                results.add(self.inAtomicContext());
                held.complete();
                tried.waitForCompletion();
                l.unlock();
                results.add(self.inAtomicContext());
                released.complete();
            });
            k.spawnKthread("trier", self -> {
                held.waitForCompletion();
                results.add(l.trylock());
                results.add(self.inAtomicContext());
                tried.complete();
                released.waitForCompletion();
                results.add(l.trylock());
                results.add(self.inAtomicContext() && self.spinDepth() == 1);
                l.assertHeld();
                l.unlock();
                results.add(l.isLocked());
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of(true, false, false, false, true, true, false), results, "seed " + seed);
        }
    }

    @Test
    void assertHeld_reportsWhenHeldByAnother() {
        Kernel k = Kernel.controlled(3);
        SpinLock l = new SpinLock(k, "lk");
        Completion held = new Completion(k, "held");
        k.spawnKthread("owner", self -> {
            l.lock();
            held.complete();
        });
        k.spawnKthread("other", self -> {
            held.waitForCompletion();
            l.assertHeld();
        });
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
        assertTrue(v.detail().startsWith("lockdep_assert_held(lk): "), v.detail());
        assertTrue(v.detail().contains("not held by other"), v.detail());
        assertTrue(v.detail().contains("held by owner"), v.detail());
    }

    @Test
    void spinlock_mutualExclusion_onEverySeed() {
        for (long seed = 0; seed < 100; seed++) {
            Kernel k = Kernel.controlled(seed);
            SpinLock l = new SpinLock(k, "lk");
            Cell<Integer> x = new Cell<>(k, "x", 0);
            for (int i = 0; i < 3; i++) {
                k.spawnKthread("t" + i, self -> {
                    l.lock();
                    x.writeOnce(x.readOnce() + 1);
                    l.unlock();
                });
            }
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(3, x.peek(), "seed " + seed);
        }
    }
}
