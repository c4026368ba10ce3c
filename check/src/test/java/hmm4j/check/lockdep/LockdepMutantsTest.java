package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.LockInstance;
import hmm4j.sim.LockMode;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Lockdep behaviour that mutation testing found unchecked: a recursion reported once per graph,
 * one key per cycle whatever class it is closed at, distinct cycles reported each, a strong
 * path through a class entered by a recursive read, the one-kernel-per-lockdep check, and
 * what {@code attach} returns.
 */
class LockdepMutantsTest {

    private static final LockClass A = new LockClass("A");
    private static final LockClass B = new LockClass("B");
    private static final LockClass C = new LockClass("C");
    private static final LockClass D = new LockClass("D");

    /** A lock as lockdep sees it, taken in any mode by calling lockdep directly. */
    private record FakeLock(LockClass lockClass, String name) implements LockInstance {
        @Override
        public boolean spinning() {
            return false;
        }
    }

    /** One run on {@code graph}: a task takes {@code first} in mode {@code m1}, then {@code second} in {@code m2}. */
    private static RunResult nested(LockGraph graph, long seed, LockClass first, LockMode m1, LockClass second,
                                    LockMode m2) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k, graph);
        Lockdep lockdep = Lockdep.of(k);
        FakeLock l1 = new FakeLock(first, first.name() + "#1");
        FakeLock l2 = new FakeLock(second, second.name() + "#2");
        k.spawnKthread("t" + seed, self -> {
            lockdep.acquire(self, l1, m1, false);
            lockdep.acquire(self, l2, m2, false);
            lockdep.release(self, l2);
            lockdep.release(self, l1);
        });
        return k.run();
    }

    private static RunResult nested(LockGraph graph, long seed, LockClass first, LockClass second) {
        return nested(graph, seed, first, LockMode.EXCLUSIVE, second, LockMode.EXCLUSIVE);
    }

    @Test
    void recursiveLocking_isReportedOncePerGraph() {
        LockGraph graph = new LockGraph();
        RunResult first = nested(graph, 1, A, A);
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, first.firstFailure().orElseThrow());
        assertTrue(c.newChain().get(0).contains("possible recursive locking"), c.newChain().toString());
        RunResult second = nested(graph, 2, A, A);
        assertTrue(second.clean(), "the same recursion again on the same graph: " + second.failures());
        RunResult other = nested(graph, 3, B, B);
        assertEquals(1, other.failures().size(), "another class's recursion is new: " + other.failures());
    }

    @Test
    void oneCycle_closedAgainAtItsOtherClass_isNotReportedTwice() {
        LockGraph graph = new LockGraph();
        assertTrue(nested(graph, 1, A, B).clean());
        RunResult closed = nested(graph, 2, B, A);
        assertEquals(1, closed.failures().size(), closed.failures().toString());
        // A new kind of A -> B (A held as a reader) closes the same cycle, found from B this time.
        RunResult again = nested(graph, 3, A, LockMode.SHARED, B, LockMode.EXCLUSIVE);
        assertTrue(again.clean(), "cycle A B was reported already: " + again.failures());
        assertTrue(graph.hasDependency(A, B, DependencyKind.of(LockMode.SHARED, LockMode.EXCLUSIVE)));
    }

    @Test
    void twoDistinctCycles_onOneGraph_areEachReported() {
        LockGraph graph = new LockGraph();
        assertTrue(nested(graph, 1, A, B).clean());
        Failure.LockOrderCycle ab = assertInstanceOf(Failure.LockOrderCycle.class,
                nested(graph, 2, B, A).firstFailure().orElseThrow());
        assertEquals("B", ab.held());
        assertTrue(nested(graph, 3, C, D).clean());
        RunResult second = nested(graph, 4, D, C);
        Failure.LockOrderCycle cd = assertInstanceOf(Failure.LockOrderCycle.class, second.firstFailure().orElseThrow(),
                "a second, different cycle on the same graph must be reported too");
        assertEquals("D", cd.held());
        assertEquals("C", cd.acquiring());
        assertTrue(nested(graph, 5, B, C).clean());
        RunResult third = nested(graph, 6, C, A);
        assertEquals(1, third.failures().size(), "A -> B -> C -> A is a third cycle: " + third.failures());
    }

    @Test
    void strongPath_throughAClassEnteredByARecursiveRead_andLeftExclusive_closesACycle() {
        Kernel k = Kernel.controlled(5);
        Checkers.install(k);
        Lockdep lockdep = Lockdep.of(k);
        FakeLock a = new FakeLock(A, "a");
        FakeLock b = new FakeLock(B, "b");
        FakeLock c = new FakeLock(C, "c");
        k.spawnKthread("t", self -> {
            lockdep.acquire(self, a, LockMode.EXCLUSIVE, false);
            lockdep.acquire(self, b, LockMode.RECURSIVE_READ, false);
            lockdep.release(self, b);
            lockdep.release(self, a);
            lockdep.acquire(self, b, LockMode.EXCLUSIVE, false);
            lockdep.acquire(self, c, LockMode.EXCLUSIVE, false);
            lockdep.release(self, c);
            lockdep.release(self, b);
            lockdep.acquire(self, c, LockMode.EXCLUSIVE, false);
            lockdep.acquire(self, a, LockMode.EXCLUSIVE, false);
            lockdep.release(self, a);
            lockdep.release(self, c);
        });
        RunResult r = k.run();
        Failure.LockOrderCycle cycle = assertInstanceOf(Failure.LockOrderCycle.class, r.firstFailure().orElseThrow());
        assertEquals("C", cycle.held());
        assertEquals("A", cycle.acquiring());
        assertEquals(2, cycle.existingChain().size(), cycle.existingChain().toString());
        List<LockGraph.Dependency> path = lockdep.graph().path(A, C);
        assertEquals(2, path.size(), path.toString());
        assertEquals(B, path.get(0).to());
    }

    @Test
    void aTaskOfAnotherKernel_isRefusedByEveryEntryPoint() {
        Kernel mine = Kernel.controlled(1);
        Checkers.install(mine);
        Lockdep lockdep = Lockdep.of(mine);
        Kernel other = Kernel.controlled(2);
        SpinLock spin = new SpinLock(other, "other spin");
        AtomicReference<String> refused = new AtomicReference<>();
        Task foreign = other.spawnKthread("foreign", self -> {
            spin.lock();
            try {
                lockdep.mightSleep(self, "might_sleep");
            } catch (IllegalStateException e) {
                refused.set(e.getMessage());
            }
            spin.unlock();
        });
        FakeLock a = new FakeLock(A, "a");
        assertThrows(IllegalStateException.class, () -> lockdep.acquire(foreign, a, LockMode.EXCLUSIVE, false));
        assertThrows(IllegalStateException.class, () -> lockdep.release(foreign, a));
        assertThrows(IllegalStateException.class, () -> lockdep.changeMode(foreign, a, LockMode.SHARED));
        assertTrue(other.run().clean());
        assertTrue(refused.get() != null && refused.get().contains("another kernel"), String.valueOf(refused.get()));
    }

    @Test
    void attach_returnsTheLockdepOfTheKernel() {
        Kernel first = Kernel.controlled(1);
        LockGraph graph = new LockGraph();
        Lockdep l1 = Lockdep.attach(first, graph);
        assertSame(l1, Lockdep.of(first));
        assertSame(first, l1.kernel());
        assertEquals(1, l1.run());
        Kernel second = Kernel.controlled(2);
        Lockdep l2 = l1.attachTo(second);
        assertSame(l2, Lockdep.of(second));
        assertSame(graph, l2.graph());
        assertEquals(2, l2.run());
        Kernel fresh = Kernel.controlled(3);
        Lockdep l3 = Lockdep.attach(fresh);
        assertSame(l3, Lockdep.of(fresh));
        assertEquals(1, l3.run());
    }

    @Test
    void isHeld_followsAcquireAndRelease() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        Lockdep lockdep = Lockdep.of(k);
        FakeLock a = new FakeLock(A, "a");
        FakeLock b = new FakeLock(B, "b");
        List<Boolean> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        k.spawnKthread("t", self -> {
            seen.add(lockdep.isHeld(self, a));
            lockdep.acquire(self, a, LockMode.EXCLUSIVE, false);
            seen.add(lockdep.isHeld(self, a));
            seen.add(lockdep.isHeld(self, b));
            lockdep.release(self, a);
            seen.add(lockdep.isHeld(self, a));
        });
        assertTrue(k.run().clean());
        assertEquals(List.of(false, true, false, false), seen);
    }

    @Test
    void changeMode_ofALockNotHeld_isReported() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        Lockdep lockdep = Lockdep.of(k);
        FakeLock a = new FakeLock(A, "a");
        k.spawnKthread("t", self -> lockdep.changeMode(self, a, LockMode.SHARED));
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class,
                k.run().firstFailure().orElseThrow());
        assertTrue(v.detail().contains("lock mode change of a lock not held"), v.detail());
    }
}
