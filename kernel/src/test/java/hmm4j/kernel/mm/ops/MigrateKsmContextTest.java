package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lockdep.LockGraph;
import hmm4j.check.lockdep.Lockdep;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.Ksm;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MigratePages;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.Mutex;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Ordinary migration and KSM against lockdep and against references a merge or a move must
 * not break: a driver lock taken in the CLEAR callback of {@code try_to_migrate_one} is ordered
 * after the folio lock and the anon_vma rwsem, so a driver that also holds it around
 * {@code lock_page} is a cycle; a page with a GUP reference is neither migrated (the move fails
 * with {@code -EAGAIN} and the source is mapped back) nor merged ({@code write_protect_page}
 * refuses it).
 */
class MigrateKsmContextTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long BASE = 0x5000_0000L;
    private static final LockClass FOLIO = new LockClass(Rmap.FOLIO_LOCK);
    private static final LockClass ANON_VMA = new LockClass(Rmap.ANON_VMA_RWSEM);
    private static final LockClass DRIVER = new LockClass("driver_lock");

    private interface Body {
        void run(Kernel k, MmStruct mm);
    }

    /** Two private pages at BASE holding 7 each, an interval subscription running {@code ops}. */
    private static RunResult inProcess(Kernel k, MmuIntervalNotifierOps ops, Body body) {
        AtomicInteger done = new AtomicInteger();
        MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror");
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(BASE, Mmap.mmap(mm, BASE, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0));
            assertEquals(0, UserAccess.copyToUser(k, BASE, new byte[] {7}));
            assertEquals(0, UserAccess.copyToUser(k, BASE + PAGE, new byte[] {7}));
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

    private static MmuIntervalNotifierOps lockingDriver(Mutex driver) {
        return (s, range, cur) -> {
            driver.lock();
            s.mmuIntervalSetSeq(cur);
            driver.unlock();
            return true;
        };
    }

    @Test
    void movePages_ordersTheDriverLockAfterTheFolioLockAndTheAnonVmaRwsem() {
        Kernel k = checkedKernel(21);
        Mutex driver = new Mutex(k, "driver_lock");
        assertClean(inProcess(k, lockingDriver(driver), (kk, mm) -> {
            int[] status = new int[2];
            assertEquals(0, MigratePages.movePages(mm, new long[] {BASE, BASE + PAGE}, 0, status));
            assertArrayEquals(new int[] {0, 0}, status);
        }));
        LockGraph g = Lockdep.of(k).graph();
        assertTrue(g.hasDependency(FOLIO, DRIVER), "folio_lock -> driver lock");
        assertTrue(g.hasDependency(ANON_VMA, DRIVER), "&anon_vma->rwsem -> driver lock");
        assertFalse(g.hasDependency(DRIVER, FOLIO));
    }

    @Test
    void lockPageUnderTheDriverLock_plusACallbackTakingItUnderMigration_isACycle() {
        Kernel k = checkedKernel(22);
        Mutex driver = new Mutex(k, "driver_lock");
        RunResult r = inProcess(k, lockingDriver(driver), (kk, mm) -> {
            assertEquals(1, MigratePages.compactRange(mm, BASE, BASE + PAGE));
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
    void aPageWithAGupReference_isNotMigrated_andIsMappedBack() {
        Kernel k = checkedKernel(23);
        assertClean(inProcess(k, (s, range, cur) -> {
            s.mmuIntervalSetSeq(cur);
            return true;
        }, (kk, mm) -> {
            Page[] pages = new Page[1];
            mm.mmapReadLock();
            assertEquals(1, Gup.getUserPages(mm, BASE, 1, 0, pages));
            mm.mmapReadUnlock();
            long pfn = Pte.pfn(mm.ptePeek(BASE));
            int[] status = new int[1];
            assertEquals(0, MigratePages.movePages(mm, new long[] {BASE}, 0, status));
            assertEquals(-Errno.EAGAIN, status[0], "folio_migrate_mapping: the reference count does not match");
            long pte = mm.ptePeek(BASE);
            assertTrue(Pte.isPresent(pte) && Pte.isWrite(pte), Pte.toString(pte));
            assertEquals(pfn, Pte.pfn(pte), "the source is mapped back");
            pages[0].put();
            assertEquals(0, MigratePages.movePages(mm, new long[] {BASE}, 0, status));
            assertEquals(0, status[0], "migrated once the reference is gone");
            assertTrue(pfn != Pte.pfn(mm.ptePeek(BASE)));
        }));
    }

    @Test
    void aPageWithAGupReference_isNotMerged() {
        Kernel k = checkedKernel(24);
        assertClean(inProcess(k, (s, range, cur) -> {
            s.mmuIntervalSetSeq(cur);
            return true;
        }, (kk, mm) -> {
            Page[] pages = new Page[1];
            mm.mmapReadLock();
            assertEquals(1, Gup.getUserPages(mm, BASE, 1, 0, pages));
            mm.mmapReadUnlock();
            assertEquals(0, Madvise.madvise(mm, BASE, 2 * PAGE, Ksm.MADV_MERGEABLE));
            assertEquals(0, Ksm.ksmdScan(kk), "write_protect_page refuses the referenced page");
            assertTrue(Pte.isWrite(mm.ptePeek(BASE)), "left writable");
            pages[0].put();
            assertEquals(1, Ksm.ksmdScan(kk));
            assertEquals(Pte.pfn(mm.ptePeek(BASE)), Pte.pfn(mm.ptePeek(BASE + PAGE)));
        }));
    }

    /**
     * A device fault racing {@code move_pages}: the migration holds no mmap lock, so the
     * driver's {@code hmm_range_fault} runs under the mmap read lock meanwhile, waits on the
     * migration entry when it meets one (or retries after the CLEAR bumped its sequence), and in
     * every interleaving ends with the new page; no deadlock, no stale pfn.
     */
    @Test
    void hmmRangeFault_racingMovePages_endsWithTheNewPage() {
        int[] newOrStale = new int[2];
        for (long seed = 1; seed <= 12; seed++) {
            Kernel k = checkedKernel(seed);
            MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror");
            AtomicLong devicePfn = new AtomicLong(-1);
            AtomicLong cpuPfn = new AtomicLong(-2);
            AtomicLong origPfn = new AtomicLong(-3);
            AtomicLong usedSeq = new AtomicLong();
            AtomicInteger staleAfterward = new AtomicInteger();
            Process.spawn(k, "app", self -> {
                MmStruct mm = MmStruct.of(self);
                assertEquals(BASE, Mmap.mmap(mm, BASE, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                        Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0));
                assertEquals(0, UserAccess.copyToUser(k, BASE, new byte[] {7}));
                assertEquals(0, sub.mmuIntervalNotifierInsert(mm, BASE, PAGE, (s, range, cur) -> {
                    s.mmuIntervalSetSeq(cur);
                    return true;
                }));
                origPfn.set(Pte.pfn(mm.ptePeek(BASE)));
                Completion done = new Completion(k, "device fault done");
                k.spawnKthread("gpu-fault", w -> {
                    assertTrue(mm.mmgetNotZero());
                    while (true) {
                        long[] pfns = new long[1];
                        HmmRange range = new HmmRange(sub, BASE, BASE + PAGE, pfns, HmmPfn.HMM_PFN_REQ_FAULT, 0, null);
                        long seq = sub.mmuIntervalReadBegin();
                        range.setNotifierSeq(seq);
                        mm.mmapReadLock();
                        int ret = Hmm.hmmRangeFault(range);
                        mm.mmapReadUnlock();
                        if (ret == -Errno.EBUSY || ret == 0 && sub.mmuIntervalReadRetry(seq)) {
                            continue;
                        }
                        assertEquals(0, ret);
                        devicePfn.set(pfns[0] & ~HmmPfn.HMM_PFN_FLAGS);
                        usedSeq.set(seq);
                        break;
                    }
                    done.complete();
                    mm.mmput();
                });
                int[] status = new int[1];
                assertEquals(0, MigratePages.movePages(mm, new long[] {BASE}, 0, status));
                assertEquals(0, status[0]);
                done.waitForCompletion();
                cpuPfn.set(Pte.pfn(mm.ptePeek(BASE)));
                staleAfterward.set(sub.mmuIntervalReadRetry(usedSeq.get()) ? 1 : 0);
                assertEquals(7, readByte(k, BASE));
                sub.mmuIntervalNotifierRemove();
            });
            assertClean(k.run());
            assertTrue(cpuPfn.get() != origPfn.get(), "migrated, seed " + seed);
            if (devicePfn.get() == origPfn.get()) {
                newOrStale[1]++;
                assertEquals(1, staleAfterward.get(),
                        "a fault done before the migration is invalidated by its CLEAR, seed " + seed);
            } else {
                newOrStale[0]++;
                assertEquals(cpuPfn.get(), devicePfn.get(), "the new page, seed " + seed);
            }
        }
        assertTrue(newOrStale[0] > 0, "some interleaving faults during or after the migration");
    }

    private static byte readByte(Kernel k, long addr) {
        byte[] b = new byte[1];
        assertEquals(0, UserAccess.copyFromUser(k, b, addr));
        return b[0];
    }
}
