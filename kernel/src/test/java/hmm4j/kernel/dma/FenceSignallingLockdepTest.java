package hmm4j.kernel.dma;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Gfp;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.SpinLock;
import org.junit.jupiter.api.Test;

/**
 * The fence-signalling annotations: an invalidate callback waiting for a fence under the
 * driver's notifier lock against a completion path that takes that lock (found), or not
 * (clean); a signalling path that takes the mmap lock or allocates with reclaim, found
 * through the order {@code dma_resv_lockdep} primes, with no invalidation in the run.
 */
class FenceSignallingLockdepTest {
    private static final long PAGE = Pte.PAGE_SIZE;

    /** What the ring's completion path does inside its signalling section, before the signal. */
    private interface Completion {
        void run(Kernel k, MmStruct mm, Mutex notifierLock);
    }

    /**
     * A driver: an interval notifier whose invalidate waits for the buffer's fences under
     * {@code notifier_lock}; one job, completed by a ring thread running {@code completion}
     * in its signalling section while the process unmaps a page.
     */
    private static RunResult run(long seed, boolean unmap, Completion completion) {
        Kernel k = checkedKernel(seed);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (2 * PAGE)]) != 0) {
                throw new IllegalStateException("set-up failed: " + base);
            }
            Mutex notifierLock = new Mutex(k, "drv->notifier_lock");
            DmaResv resv = new DmaResv(k, "bo->resv");
            MmuIntervalNotifier sub = new MmuIntervalNotifier("bo->notifier");
            sub.mmuIntervalNotifierInsert(mm, base, 2 * PAGE, (s, range, seq) -> {
                notifierLock.lock();
                s.mmuIntervalSetSeq(seq);
                resv.dmaResvWaitTimeout(DmaResvUsage.BOOKKEEP, false, DmaFence.MAX_SCHEDULE_TIMEOUT);
                notifierLock.unlock();
                return true;
            });
            DmaFence job = new DmaFence(k, DmaFenceTest.OPS, new SpinLock(k, "ring->fence_lock"),
                    DmaFence.dmaFenceContextAlloc(k, 1), 1);
            resv.dmaResvLock();
            resv.dmaResvReserveFences(1);
            resv.dmaResvAddFence(job, DmaResvUsage.BOOKKEEP);
            resv.dmaResvUnlock();
            Task ring = k.spawnKthread("ring", t -> {
                boolean cookie = DmaFence.dmaFenceBeginSignalling(k);
                completion.run(k, mm, notifierLock);
                job.dmaFenceSignal();
                DmaFence.dmaFenceEndSignalling(k, cookie);
                job.dmaFencePut();
            });
            if (unmap) {
                Mmap.munmap(mm, base, PAGE);
            }
            ring.join();
            sub.mmuIntervalNotifierRemove();
            resv.dmaResvFini();
        });
        return k.run();
    }

    private static Failure.LockOrderCycle cycleOf(RunResult r) {
        assertEquals(1, r.failures().size(), () -> describe(r));
        return assertInstanceOf(Failure.LockOrderCycle.class, r.failures().get(0), () -> describe(r));
    }

    @Test
    void completionTakingTheNotifierLock_againstAWaitUnderIt_isAFenceSignallingCycle() {
        int found = 0;
        for (long seed = 1; seed <= 30; seed++) {
            RunResult r = run(seed, true, (k, mm, lock) -> {
                lock.lock();
                lock.unlock();
            });
            if (r.failures().isEmpty()) {
                continue; // the job signalled before the invalidation: nothing waited
            }
            Failure.LockOrderCycle c = cycleOf(r);
            String both = c.held() + " " + c.acquiring();
            assertTrue(both.contains("drv->notifier_lock") && both.contains("dma_fence_map"), both);
            found++;
        }
        assertTrue(found >= 3, "found in " + found + " of 30 runs");
    }

    @Test
    void completionTakingAnotherLock_isClean() {
        for (long seed = 1; seed <= 30; seed++) {
            assertClean(run(seed, true, (k, mm, lock) -> {
                Mutex ring = new Mutex(k, "ring->lock");
                ring.lock();
                ring.unlock();
            }));
        }
    }

    @Test
    void completionTakingTheMmapLock_isFoundThroughThePrimedOrder_withoutAnyInvalidation() {
        for (long seed = 1; seed <= 5; seed++) {
            Failure.LockOrderCycle c = cycleOf(run(seed, false, (k, mm, lock) -> {
                mm.mmapReadLock();
                mm.mmapReadUnlock();
            }));
            String text = c.headline() + " " + c.details();
            assertTrue(text.contains("mm->mmap_lock") && text.contains("dma_fence_map"), text);
            assertTrue(text.contains("dma_resv_lockdep"), "the existing chain cites the priming: " + text);
        }
    }

    @Test
    void completionAllocatingWithReclaim_isFoundThroughThePrimedOrder() {
        for (long seed = 1; seed <= 5; seed++) {
            Failure.LockOrderCycle c = cycleOf(run(seed, false, (k, mm, lock) -> Gfp.mightAlloc(k, Gfp.GFP_KERNEL)));
            String text = c.headline() + " " + c.details();
            assertTrue(text.contains("fs_reclaim") && text.contains("dma_fence_map"), text);
        }
        for (long seed = 1; seed <= 5; seed++) {
            assertClean(run(seed, false, (k, mm, lock) -> Gfp.mightAlloc(k, Gfp.GFP_NOWAIT)));
        }
    }
}
