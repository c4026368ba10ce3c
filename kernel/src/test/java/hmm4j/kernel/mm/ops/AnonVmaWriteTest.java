package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lockdep.LockGraph;
import hmm4j.check.lockdep.Lockdep;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.RwSemaphore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The write side of the anon_vma rwsem (mm/rmap.c): {@code anon_vma_fork} at fork and
 * {@code unlink_anon_vmas} in {@code free_pgtables} at munmap and exit take it for write, so
 * lockdep orders the mmap lock (and whatever a caller holds around munmap) before it, and a
 * teardown waits for an rmap walker that holds it for read.
 */
class AnonVmaWriteTest {

    private static final long PAGE = Pte.PAGE_SIZE;
    private static final LockClass MMAP = new LockClass("mm->mmap_lock");
    private static final LockClass ANON_VMA = new LockClass(Rmap.ANON_VMA_RWSEM);
    private static final LockClass DRIVER = new LockClass("driver_lock");

    private static long touchedPrivate(Kernel k, MmStruct mm, int pages) {
        long a = Mmap.mmapAnonymous(mm, pages * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
        assertEquals(0, UserAccess.copyToUser(k, a, new byte[(int) (pages * PAGE)]));
        return a;
    }

    @Test
    void fork_takesTheAnonVmaRwsemForWrite_underTheMmapLock() {
        Kernel k = checkedKernel(1);
        Process.spawn(k, "parent", self -> {
            touchedPrivate(k, MmStruct.of(self), 1);
            Task child = Process.fork(self, "child", c -> { });
            child.join();
        });
        assertClean(k.run());
        LockGraph g = Lockdep.of(k).graph();
        assertTrue(g.hasDependency(MMAP, ANON_VMA), "mmap_lock -> &anon_vma->rwsem");
        assertFalse(g.hasDependency(ANON_VMA, MMAP));
    }

    @Test
    void munmap_unlinksUnderTheAnonVmaRwsem_afterTheLocksItsCallerHolds() {
        Kernel k = checkedKernel(2);
        Mutex driver = new Mutex(k, "driver_lock");
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = touchedPrivate(k, mm, 2);
            driver.lock();
            assertEquals(0, Mmap.munmap(mm, a, 2 * PAGE));
            driver.unlock();
        });
        assertClean(k.run());
        assertTrue(Lockdep.of(k).graph().hasDependency(DRIVER, ANON_VMA), "driver lock -> &anon_vma->rwsem (unlink_anon_vmas)");
    }

    @Test
    void munmap_waitsForAnRmapWalkerHoldingTheAnonVmaRwsemForRead() {
        Kernel k = checkedKernel(3);
        List<String> order = new CopyOnWriteArrayList<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = touchedPrivate(k, mm, 1);
            RwSemaphore walker = Rmap.anonVmaLockRead(mm);
            Task unmapper = k.spawnKthread("unmapper", t -> {
                mm.mmget();
                assertEquals(0, Mmap.munmap(mm, a, PAGE));
                order.add("munmap done");
                mm.mmput();
            });
            // Virtual time moves only once "unmapper" is blocked: on the rwsem, for write.
            k.runtime().sleep(1_000_000);
            order.add("walker done");
            Rmap.anonVmaUnlockRead(walker);
            unmapper.join();
        });
        assertClean(k.run());
        assertEquals(List.of("walker done", "munmap done"), order);
    }

    @Test
    void reclaimAfterTheChange_stillRunsItsWalkUnderTheReadSide() {
        Kernel k = checkedKernel(4);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = touchedPrivate(k, mm, 2);
            assertEquals(2, Vmscan.reclaimAnon(mm, a, a + 2 * PAGE));
        });
        assertClean(k.run());
    }
}
