package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.CheckRules;
import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.LockInstance;
import hmm4j.sim.LockMode;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * What mutation testing left unchecked in {@link Lockdep#prime} (the boot-time order a driver's
 * initcall teaches, {@code dma_resv_lockdep}) and in {@link Lockdep#mightSleep} inside a
 * no-sleep section; the check module's own tests did not reach either.
 */
class LockdepPrimeMutantsTest {

    private static final LockClass A = new LockClass("A");
    private static final LockClass B = new LockClass("B");
    private static final LockClass C = new LockClass("C");
    private static final LockClass D = new LockClass("D");

    private record FakeLock(LockClass lockClass, String name) implements LockInstance {
        @Override
        public boolean spinning() {
            return false;
        }
    }

    private static final FakeLock LA = new FakeLock(A, "a");
    private static final FakeLock LA2 = new FakeLock(A, "a2");
    private static final FakeLock LB = new FakeLock(B, "b");
    private static final FakeLock LC = new FakeLock(C, "c");
    private static final FakeLock LD = new FakeLock(D, "d");

    @Test
    void prime_recordsEveryPairInOrder_withItsModes_andNotWhatTheCallerHolds() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        Lockdep lockdep = Lockdep.of(k);
        k.spawnKthread("init", self -> {
            lockdep.acquire(self, LD, LockMode.EXCLUSIVE, false);
            lockdep.prime("dma_resv_lockdep", List.of(LA, LB, LC),
                    List.of(LockMode.SHARED, LockMode.EXCLUSIVE, LockMode.EXCLUSIVE));
            lockdep.release(self, LD);
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        LockGraph g = lockdep.graph();
        assertTrue(g.hasDependency(A, B, DependencyKind.of(LockMode.SHARED, LockMode.EXCLUSIVE)));
        assertTrue(g.hasDependency(A, C, DependencyKind.of(LockMode.SHARED, LockMode.EXCLUSIVE)));
        assertTrue(g.hasDependency(B, C, DependencyKind.of(LockMode.EXCLUSIVE, LockMode.EXCLUSIVE)));
        assertFalse(g.hasDependency(B, A));
        assertFalse(g.hasDependency(D, A), "the priming task's own locks play no part");
        assertEquals(3, g.dependencyCount(), g.dependencies()::toString);
        for (LockGraph.Dependency d : g.dependencies()) {
            assertTrue(d.site().toString().contains("dma_resv_lockdep"), d.site()::toString);
        }
    }

    @Test
    void prime_skipsTwoLocksOfOneClass_withoutARecursionReport() {
        Kernel k = Kernel.controlled(2);
        Checkers.install(k);
        Lockdep lockdep = Lockdep.of(k);
        k.spawnKthread("init", self -> lockdep.prime("init", List.of(LA, LA2, LB),
                List.of(LockMode.EXCLUSIVE, LockMode.EXCLUSIVE, LockMode.EXCLUSIVE)));
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertFalse(lockdep.graph().hasDependency(A, A));
        assertTrue(lockdep.graph().hasDependency(A, B));
    }

    @Test
    void prime_afterADriverTookTheOtherOrder_reportsTheCycle_andStillRecordsTheRest() {
        Kernel k = Kernel.controlled(3);
        Checkers.install(k);
        Lockdep lockdep = Lockdep.of(k);
        k.spawnKthread("driver", self -> {
            lockdep.acquire(self, LB, LockMode.EXCLUSIVE, false);
            lockdep.acquire(self, LA, LockMode.EXCLUSIVE, false);
            lockdep.release(self, LA);
            lockdep.release(self, LB);
            lockdep.prime("init", List.of(LA, LB, LC),
                    List.of(LockMode.EXCLUSIVE, LockMode.EXCLUSIVE, LockMode.EXCLUSIVE));
        });
        RunResult r = k.run();
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, r.firstFailure().orElseThrow());
        assertEquals("A", c.held());
        assertEquals("B", c.acquiring());
        assertEquals(1, c.existingChain().size(), c.existingChain()::toString);
        assertTrue(lockdep.graph().hasDependency(A, C));
        assertTrue(lockdep.graph().hasDependency(B, C));
    }

    @Test
    void prime_withOneModeTooFew_isRefused() {
        Kernel k = Kernel.controlled(4);
        Checkers.install(k);
        Lockdep lockdep = Lockdep.of(k);
        assertThrows(IllegalArgumentException.class,
                () -> lockdep.prime("init", List.of(LA, LB), List.of(LockMode.EXCLUSIVE)));
        assertEquals(0, lockdep.graph().dependencyCount());
    }

    @Test
    void mightSleep_inANoSleepSection_isReportedWithTheSectionsRule() {
        Kernel k = Kernel.controlled(5);
        Checkers.install(k);
        Lockdep lockdep = Lockdep.of(k);
        k.spawnKthread("t", self -> {
            self.noSleepStart(CheckRules.RELEASE_HELD, "a non-blockable section");
            lockdep.mightSleep(self, "mutex_lock");
            self.noSleepEnd();
        });
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class,
                k.run().firstFailure().orElseThrow());
        assertSame(CheckRules.RELEASE_HELD, v.rule());
        assertEquals("a non-blockable section: t calls mutex_lock", v.detail());
    }

    @Test
    void mightSleep_inANoSleepSection_ofAnotherKernelsTask_isRefused() {
        Kernel mine = Kernel.controlled(6);
        Checkers.install(mine);
        Lockdep lockdep = Lockdep.of(mine);
        Kernel other = Kernel.controlled(7);
        AtomicReference<String> refused = new AtomicReference<>();
        other.spawnKthread("foreign", self -> {
            self.noSleepStart(CheckRules.RELEASE_HELD, "section");
            try {
                lockdep.mightSleep(self, "might_sleep");
            } catch (IllegalStateException e) {
                refused.set(e.getMessage());
            }
            self.noSleepEnd();
        });
        other.run();
        assertTrue(refused.get() != null && refused.get().contains("another kernel"), String.valueOf(refused.get()));
    }
}
