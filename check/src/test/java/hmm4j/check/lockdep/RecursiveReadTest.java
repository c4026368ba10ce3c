package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.LockInstance;
import hmm4j.sim.LockMode;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.LockMap;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.RwSemaphore;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Recursive reads ({@link LockMode#RECURSIVE_READ}, {@code lock_map_acquire_read}) as the
 * kernel's lockdep treats them: they nest with any read of their class, their dependencies
 * are recorded, and a cycle counts only along a strong path.
 */
class RecursiveReadTest {

    private static final LockClass A = new LockClass("A");
    private static final LockClass MAP = new LockClass("map");
    private static final int SEEDS = 30;

    private static Kernel kernel(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        return k;
    }

    /** A lock as lockdep sees it, taken in any mode by calling lockdep directly. */
    private record FakeLock(LockClass lockClass, String name) implements LockInstance {
        @Override
        public boolean spinning() {
            return false;
        }
    }

    @ParameterizedTest(name = "{0} then {1}: reported {2}")
    @CsvSource({
        "EXCLUSIVE, EXCLUSIVE, true",
        "EXCLUSIVE, SHARED, true",
        "EXCLUSIVE, RECURSIVE_READ, true",
        "SHARED, EXCLUSIVE, true",
        "SHARED, SHARED, true",
        "SHARED, RECURSIVE_READ, false",
        "RECURSIVE_READ, EXCLUSIVE, true",
        "RECURSIVE_READ, SHARED, true",
        "RECURSIVE_READ, RECURSIVE_READ, false",
    })
    void sameClassTwice_isRecursiveLocking_unlessARecursiveReadUnderARead(LockMode held, LockMode taken,
                                                                         boolean reported) {
        Kernel k = kernel(1);
        Lockdep lockdep = Lockdep.of(k);
        FakeLock first = new FakeLock(A, "a#1");
        FakeLock second = new FakeLock(A, "a#2");
        k.spawnKthread("t", self -> {
            lockdep.acquire(self, first, held, false);
            lockdep.acquire(self, second, taken, false);
            lockdep.release(self, second);
            lockdep.release(self, first);
        });
        RunResult r = k.run();
        if (!reported) {
            assertTrue(r.clean(), r.failures().toString());
            return;
        }
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, r.firstFailure().orElseThrow());
        assertEquals("A", c.held());
        assertTrue(c.newChain().get(0).contains("possible recursive locking of a#2 (class A)"), c.newChain().toString());
        assertEquals(taken == LockMode.RECURSIVE_READ, c.newChain().get(0).endsWith(" for recursive read"),
                c.newChain().toString());
    }

    @Test
    void recursiveReadUnderAWriter_recordsTheDependency() {
        Kernel k = kernel(2);
        Mutex a = new Mutex(k, "A", "a");
        LockMap map = new LockMap(k, "map");
        k.spawnKthread("t", self -> {
            a.lock();
            map.acquireRead();
            map.release();
            a.unlock();
        });
        assertTrue(k.run().clean());
        LockGraph g = Lockdep.of(k).graph();
        assertTrue(g.hasDependency(A, MAP, DependencyKind.ER));
        assertFalse(g.hasDependency(A, MAP, DependencyKind.EN));
    }

    @Test
    void twoRecursiveReaders_inOppositeOrder_areNotADeadlock() {
        for (long seed = 0; seed < SEEDS; seed++) {
            Kernel k = kernel(seed);
            Mutex a = new Mutex(k, "A", "a");
            LockMap map = new LockMap(k, "map");
            k.spawnKthread("reader-then-a", self -> {
                map.acquireRead();
                a.lock();
                a.unlock();
                map.release();
            });
            k.spawnKthread("a-then-reader", self -> {
                a.lock();
                map.acquireRead();
                map.release();
                a.unlock();
            });
            RunResult r = k.run();
            assertTrue(r.clean(), "seed " + seed + ": " + r.failures());
            LockGraph g = Lockdep.of(k).graph();
            assertTrue(g.hasDependency(MAP, A, DependencyKind.SN) && g.hasDependency(A, MAP, DependencyKind.ER),
                    g.dependencies().toString());
        }
    }

    @Test
    void aWriterAgainstARecursiveReader_isACycle_onEverySeed() {
        for (long seed = 0; seed < SEEDS; seed++) {
            Kernel k = kernel(seed);
            Mutex a = new Mutex(k, "A", "a");
            LockMap map = new LockMap(k, "map");
            k.spawnKthread("a-then-reader", self -> {
                a.lock();
                map.acquireRead();
                map.release();
                a.unlock();
            });
            k.spawnKthread("writer-then-a", self -> {
                map.acquire();
                a.lock();
                a.unlock();
                map.release();
            });
            RunResult r = k.run();
            Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, r.firstFailure().orElseThrow(),
                    "seed " + seed);
            List<String> chains = new ArrayList<>(c.newChain());
            chains.addAll(c.existingLines());
            assertTrue(chains.stream().anyMatch(l -> l.startsWith("A -> map (map taken for recursive read) at ")),
                    "seed " + seed + ": " + chains);
        }
    }

    @Test
    void aRecursiveReaderAgainstAWriter_isACycle_whicheverOrderTheyRun() {
        for (long seed = 0; seed < SEEDS; seed++) {
            Kernel k = kernel(seed);
            Mutex a = new Mutex(k, "A", "a");
            LockMap map = new LockMap(k, "map");
            k.spawnKthread("reader-then-a", self -> {
                map.acquireRead();
                a.lock();
                a.unlock();
                map.release();
            });
            k.spawnKthread("a-then-writer", self -> {
                a.lock();
                map.acquire();
                map.release();
                a.unlock();
            });
            RunResult r = k.run();
            assertInstanceOf(Failure.LockOrderCycle.class, r.firstFailure().orElseThrow(), "seed " + seed);
        }
    }

    @Test
    void nonRecursiveReaders_inOppositeOrder_areStillACycle() {
        Kernel k = kernel(3);
        Mutex a = new Mutex(k, "A", "a");
        RwSemaphore sem = new RwSemaphore(k, "sem");
        k.spawnKthread("t", self -> {
            sem.downRead();
            a.lock();
            a.unlock();
            sem.upRead();
            a.lock();
            sem.downRead();
        });
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, k.run().firstFailure().orElseThrow());
        assertEquals("A", c.held());
        assertEquals("sem", c.acquiring());
        assertTrue(c.existingLines().get(0).startsWith("sem -> A (sem held for read) at "), c.existingChain().toString());
    }
}
