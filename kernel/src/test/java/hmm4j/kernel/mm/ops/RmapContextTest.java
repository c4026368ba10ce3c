package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lockdep.LockGraph;
import hmm4j.check.lockdep.Lockdep;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.kernel.mm.migrate.DeviceExclusive;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.LockMode;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The locks held around the invalidations of reverse-map walkers (mm/rmap.c): reclaim's
 * {@code try_to_unmap} and {@code make_device_exclusive} run their callbacks with the folio
 * lock (and reclaim with the anon_vma rwsem for read), and lockdep orders a driver lock taken
 * in the callback after them, so the kernel's cycles with {@code lock_page} are found.
 */
class RmapContextTest {

    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long BASE = 0x3000_0000L;
    private static final String MMAP_LOCK = "mm->mmap_lock";
    private static final String START_MAP = "mmu_notifier_invalidate_range_start";
    private static final LockClass FOLIO = new LockClass(Rmap.FOLIO_LOCK);
    private static final LockClass ANON_VMA = new LockClass(Rmap.ANON_VMA_RWSEM);
    private static final LockClass DRIVER = new LockClass("driver_lock");

    /** A process with two touched private pages at BASE and an interval subscription over them. */
    private interface Body {
        void run(Kernel k, MmStruct mm);
    }

    private static RunResult inProcess(Kernel k, MmuIntervalNotifier sub, MmuIntervalNotifierOps ops,
                                       Body body) {
        AtomicInteger done = new AtomicInteger();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(BASE, Mmap.mmap(mm, BASE, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0));
            assertEquals(0, UserAccess.copyToUser(k, BASE, new byte[(int) (2 * PAGE)]));
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, BASE, 2 * PAGE, ops));
            body.run(k, mm);
            sub.mmuIntervalNotifierRemove();
            done.incrementAndGet();
        });
        RunResult r = k.run();
        if (r.clean()) {
            assertEquals(1, done.get(), "the process ran to its end");
        }
        return r;
    }

    @Test
    void reclaim_callbackRunsWithTheFolioLockAndTheAnonVmaRwsemHeld() {
        Kernel k = checkedKernel(1);
        ContextRecorder rec = new ContextRecorder();
        assertClean(inProcess(k, rec.sub, rec, (kk, mm) -> assertEquals(2, Vmscan.reclaimAnon(mm, BASE, BASE + 2 * PAGE))));
        List<ContextRecorder.Seen> clears = rec.seen().stream().filter(s -> s.event() == MmuNotifierEvent.MMU_NOTIFY_CLEAR).toList();
        assertEquals(2, clears.size(), "one CLEAR per page: " + rec.seen());
        for (ContextRecorder.Seen s : clears) {
            assertTrue(s.blockable());
            assertTrue(s.vmaAtStart());
            assertEquals(List.of(MMAP_LOCK + ":SHARED", Rmap.FOLIO_LOCK + ":EXCLUSIVE",
                    Rmap.ANON_VMA_RWSEM + ":SHARED", START_MAP + ":EXCLUSIVE"), s.held(),
                    "MADV_PAGEOUT's mmap_lock, then the folio lock, the anon_vma rwsem, the notifier map");
        }
    }

    @Test
    void reclaim_ordersTheDriverLockAfterTheFolioLockAndTheAnonVmaRwsem() {
        Kernel k = checkedKernel(2);
        Mutex driver = new Mutex(k, "driver_lock");
        MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror");
        assertClean(inProcess(k, sub, (s, range, cur) -> {
            driver.lock();
            s.mmuIntervalSetSeq(cur);
            driver.unlock();
            return true;
        }, (kk, mm) -> assertEquals(2, Vmscan.reclaimAnon(mm, BASE, BASE + 2 * PAGE))));
        LockGraph g = Lockdep.of(k).graph();
        assertTrue(g.hasDependency(FOLIO, DRIVER), "folio_lock -> driver lock");
        assertTrue(g.hasDependency(ANON_VMA, DRIVER), "&anon_vma->rwsem -> driver lock");
        assertFalse(g.hasDependency(DRIVER, FOLIO));
    }

    /**
     * The kernel's ABBA: the driver's own path holds its lock around {@code lock_page}, and its
     * callback takes that lock under reclaim's folio lock. Found without the deadlock happening.
     */
    @Test
    void lockPageUnderTheDriverLock_plusACallbackTakingItUnderReclaim_isACycle() {
        Kernel k = checkedKernel(3);
        Mutex driver = new Mutex(k, "driver_lock");
        MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror");
        RunResult r = inProcess(k, sub, (s, range, cur) -> {
            driver.lock();
            s.mmuIntervalSetSeq(cur);
            driver.unlock();
            return true;
        }, (kk, mm) -> {
            assertEquals(1, Vmscan.reclaimAnon(mm, BASE, BASE + PAGE));
            Page fresh = PhysMem.of(kk).allocPage();
            driver.lock();
            fresh.lock();
            fresh.unlock();
            driver.unlock();
            fresh.put();
        });
        Failure.LockOrderCycle f = assertSingleFailure(r, Failure.LockOrderCycle.class);
        assertTrue(f.headline().contains(Rmap.FOLIO_LOCK), f.headline());
    }

    @Test
    void makeDeviceExclusive_callbackRunsWithTheFolioLockHeld() {
        Kernel k = checkedKernel(4);
        ContextRecorder rec = new ContextRecorder();
        assertClean(inProcess(k, rec.sub, rec, (kk, mm) -> {
            mm.mmapReadLock();
            ErrPtr<Page> got = DeviceExclusive.makeDeviceExclusive(mm, BASE, "owner");
            mm.mmapReadUnlock();
            assertFalse(got.isErr());
            got.get().unlock();
            got.get().put();
        }));
        ContextRecorder.Seen s = rec.only(MmuNotifierEvent.MMU_NOTIFY_EXCLUSIVE);
        assertTrue(s.holds(Rmap.FOLIO_LOCK, LockMode.EXCLUSIVE), "folio locked across the invalidation: " + s.held());
        assertFalse(s.holdsAny(Rmap.ANON_VMA_RWSEM), "no rmap walk since v6.15: " + s.held());
    }
}
