package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.check.CheckRules;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.LockMap;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Recursive locking, releases, mode changes and the held-lock stack. */
class LockdepRulesTest {

    private static Kernel kernel() {
        Kernel k = Kernel.controlled(11);
        Checkers.install(k);
        return k;
    }

    @Test
    void twoLocksOfOneClass_nested_isPossibleRecursiveLocking() {
        Kernel k = kernel();
        Mutex first = new Mutex(k, "inode->i_rwsem", "inode#1");
        Mutex second = new Mutex(k, "inode->i_rwsem", "inode#2");
        k.spawnKthread("rename", self -> {
            first.lock();
            second.lock();
        });
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class,
                k.run().firstFailure().orElseThrow());
        assertEquals(c.held(), c.acquiring());
        assertEquals("inode->i_rwsem", c.acquiring());
        assertTrue(c.newChain().get(0).contains("possible recursive locking of inode#2"), c.newChain().toString());
        assertTrue(c.existingLines().get(0).startsWith("inode#1 (class inode->i_rwsem) already held, taken at rename"),
                c.existingChain().toString());
        assertEquals(SimRules.RECURSIVE_LOCKING, c.rule());
        Failure.LockHeld held = assertInstanceOf(Failure.LockHeld.class, c.existingChain().get(0));
        assertEquals("inode#1 (class inode->i_rwsem)", held.lock());
        assertEquals("rename", held.task());
        assertEquals(1, held.taskId(), "rename is the only task");
    }

    @Test
    void downRead_twice_isReported() {
        Kernel k = kernel();
        RwSemaphore mmapLock = new RwSemaphore(k, "mm->mmap_lock", "mm#1->mmap_lock");
        k.spawnKthread("fault", self -> {
            mmapLock.downRead();
            mmapLock.downRead();
            mmapLock.upRead();
            mmapLock.upRead();
        });
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class,
                k.run().firstFailure().orElseThrow());
        assertEquals("mm->mmap_lock", c.held());
        assertTrue(c.newChain().get(0).endsWith(" for read"), c.newChain().toString());
    }

    @Test
    void spinLock_takenTwice_isReportedByLockdepFirst() {
        Kernel k = kernel();
        SpinLock s = new SpinLock(k, "s");
        k.spawnKthread("t", self -> {
            s.lock();
            s.lock();
        });
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class,
                k.run().firstFailure().orElseThrow());
        assertEquals("s", c.held());
        assertEquals("s", c.acquiring());
    }

    @Test
    void lockMap_readNested_isClean_butExclusiveNested_isReported() {
        Kernel k = kernel();
        LockMap map = new LockMap(k, "invalidate_range_start_map");
        k.spawnKthread("reader", self -> {
            map.acquireRead();
            map.acquireRead();
            map.release();
            map.release();
        });
        assertTrue(k.run().clean());

        Kernel k2 = kernel();
        LockMap map2 = new LockMap(k2, "invalidate_range_start_map");
        k2.spawnKthread("writer", self -> {
            map2.acquire();
            map2.acquire();
        });
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class,
                k2.run().firstFailure().orElseThrow());
        assertEquals("invalidate_range_start_map", c.acquiring());
    }

    @Test
    void lockMap_orderAgainstARealLock_isChecked() {
        Kernel k = kernel();
        LockMap map = new LockMap(k, "invalidate_range_start_map");
        Mutex driver = new Mutex(k, "driver->lock", "driver#1->lock");
        k.spawnKthread("invalidate", self -> {
            map.acquire();
            driver.lock();
            driver.unlock();
            map.release();
        });
        k.spawnKthread("driver", self -> {
            driver.lock();
            map.acquire();
            map.release();
            driver.unlock();
        });
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class,
                k.run().firstFailure().orElseThrow());
        assertTrue(c.headline().contains("invalidate_range_start_map") && c.headline().contains("driver->lock"),
                c.headline());
    }

    @Test
    void release_ofALockNotHeld_isReported() {
        Kernel k = kernel();
        LockMap map = new LockMap(k, "map");
        k.spawnKthread("t", self -> map.release());
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class,
                k.run().firstFailure().orElseThrow());
        assertEquals(CheckRules.RELEASE_HELD, v.rule());
        assertTrue(v.detail().startsWith("lock release not held: t releases map which it does not hold"), v.detail());
    }

    @Test
    void release_outOfOrder_popsTheMatchingEntry() {
        Kernel k = kernel();
        Mutex a = new Mutex(k, "A", "a");
        Mutex b = new Mutex(k, "B", "b");
        Lockdep lockdep = Lockdep.of(k);
        List<List<String>> stacks = new ArrayList<>();
        k.spawnKthread("t", self -> {
            a.lock();
            b.lock();
            stacks.add(names(lockdep.heldLocks(self)));
            a.unlock();
            stacks.add(names(lockdep.heldLocks(self)));
            b.unlock();
            stacks.add(names(lockdep.heldLocks(self)));
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(List.of(List.of("a", "b"), List.of("b"), List.of()), stacks);
    }

    @Test
    void heldLocks_recordModeTrylockAndSite_andFollowADowngrade() {
        Kernel k = kernel();
        RwSemaphore sem = new RwSemaphore(k, "sem");
        Mutex m = new Mutex(k, "m");
        Lockdep lockdep = Lockdep.of(k);
        List<HeldLock> seen = new ArrayList<>();
        k.spawnKthread("t", self -> {
            sem.downWrite();
            assertTrue(m.trylock());
            seen.addAll(lockdep.heldLocks(self));
            sem.downgradeWrite();
            seen.addAll(lockdep.heldLocks(self));
            m.unlock();
            sem.upRead();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(4, seen.size());
        assertEquals(LockMode.EXCLUSIVE, seen.get(0).mode());
        assertTrue(seen.get(1).trylock());
        assertEquals("t", seen.get(0).site().task());
        assertTrue(seen.get(0).site().where().startsWith("LockdepRulesTest.lambda$"), seen.get(0).site().toString());
        assertEquals(LockMode.SHARED, seen.get(2).mode());
        assertEquals(seen.get(0).site(), seen.get(2).site(), "a downgrade keeps the acquisition site");
    }

    @Test
    void taskExitingWithALockHeld_isReportedAtTheEndOfTheRun() {
        Kernel k = kernel();
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("leaky", self -> m.lock());
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class,
                k.run().firstFailure().orElseThrow());
        assertEquals(CheckRules.NONE_HELD_AT_EXIT, v.rule());
        assertTrue(v.detail().startsWith("leaky exited holding [m taken at leaky"), v.detail());
    }

    private static List<String> names(List<HeldLock> held) {
        return held.stream().map(h -> h.lock().name()).toList();
    }
}
