package hmm4j.drivers.notifier;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageWriteback;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.Mutex;

/**
 * R1: an ODP umem (drivers/infiniband/core/umem_odp.c) that, when an invalidation unmaps a
 * page its device may have written, marks the page dirty before dropping the device mapping.
 *
 * <p>The device maps pages with {@code hmm_range_fault} and programs them under
 * {@code umem_mutex}; the interval callback takes the same mutex, sets the sequence and, for
 * each mapped writable page of the range, marks it dirty. The kernel's ODP calls
 * {@code set_page_dirty} there, not {@code set_page_dirty_lock}, because notifiers are
 * sometimes called with the page lock held (its comment in {@code ib_umem_odp_unmap_dma_pages}):
 * reclaim's {@code try_to_unmap} and migration's {@code try_to_migrate} invalidate with the folio
 * locked. {@link #create}{@code (..., true)} is the variant that takes the page lock
 * ({@code set_page_dirty_lock}): under reclaim it waits for the lock its own task holds.
 */
public final class OdpDirtyUmem implements MmuIntervalNotifierOps {
    /** Coverage mark: an invalidation marked a page the device had mapped writable dirty. */
    public static final Mark DIRTIED_IN_INVALIDATE = Mark.of("odp.invalidate.dirtied-page",
            "An ODP invalidation marked a page its device had mapped writable dirty before unmapping it");

    private final Kernel kernel;
    private final Mutex umemMutex;
    private final MmuIntervalNotifier sub = new MmuIntervalNotifier("odp-dirty-umem");
    private final boolean takesPageLock;
    private final long start;
    private final long[] devicePfns;

    private OdpDirtyUmem(Kernel kernel, long start, int npages, boolean takesPageLock) {
        this.kernel = kernel;
        this.umemMutex = new Mutex(kernel, "umem_odp->umem_mutex");
        this.start = start;
        this.devicePfns = new long[npages];
        this.takesPageLock = takesPageLock;
    }

    /**
     * A umem over {@code npages} pages from {@code start} of {@code mm}, its interval
     * subscription inserted; {@code takesPageLock} chooses {@code set_page_dirty_lock} in the
     * callback (the bug) over {@code set_page_dirty}. Call from a task of the mm.
     */
    public static OdpDirtyUmem create(Kernel kernel, MmStruct mm, long start, int npages, boolean takesPageLock) {
        OdpDirtyUmem umem = new OdpDirtyUmem(kernel, start, npages, takesPageLock);
        int ret = umem.sub.mmuIntervalNotifierInsert(mm, start, (long) npages * Pte.PAGE_SIZE, umem);
        if (ret != 0) {
            throw new IllegalStateException("mmu_interval_notifier_insert failed: " + ret);
        }
        return umem;
    }

    /**
     * A device page fault over the whole umem, for write ({@code ib_umem_odp_map_dma_and_lock}):
     * the collision-retry loop of Documentation/mm/hmm.rst, programming under the mutex.
     * The caller holds an {@code mm_users} pin.
     *
     * @return 0, or the error of {@code hmm_range_fault}
     */
    public int deviceFault(MmStruct mm) {
        long[] pfns = new long[devicePfns.length];
        HmmRange range = new HmmRange(sub, start, start + (long) pfns.length * Pte.PAGE_SIZE, pfns,
                HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE, 0, null);
        while (true) {
            range.setNotifierSeq(sub.mmuIntervalReadBegin());
            mm.mmapReadLock();
            int ret = Hmm.hmmRangeFault(range);
            mm.mmapReadUnlock();
            if (ret == -Errno.EBUSY) {
                continue;
            }
            if (ret != 0) {
                return ret;
            }
            umemMutex.lock();
            if (sub.mmuIntervalReadRetry(range.notifierSeq())) {
                umemMutex.unlock();
                continue;
            }
            System.arraycopy(pfns, 0, devicePfns, 0, pfns.length);
            umemMutex.unlock();
            return 0;
        }
    }

    @Override
    public boolean invalidate(MmuIntervalNotifier subscription, MmuNotifierRange range, long curSeq) {
        if (!InvalidateLock.lockFor(umemMutex, range)) {
            return false;
        }
        subscription.mmuIntervalSetSeq(curSeq);
        PhysMem phys = PhysMem.of(kernel);
        for (int i = 0; i < devicePfns.length; i++) {
            long addr = start + (long) i * Pte.PAGE_SIZE;
            long entry = devicePfns[i];
            if (!range.overlaps(addr, addr + Pte.PAGE_SIZE) || (entry & HmmPfn.HMM_PFN_VALID) == 0) {
                continue;
            }
            if ((entry & HmmPfn.HMM_PFN_WRITE) != 0) {
                Page page = HmmPfn.hmmPfnToPage(phys, entry);
                if (takesPageLock) {
                    PageWriteback.setPageDirtyLock(page);
                } else {
                    PageWriteback.setPageDirty(page);
                }
                kernel.mark(DIRTIED_IN_INVALIDATE);
            }
            devicePfns[i] = 0;
        }
        umemMutex.unlock();
        return true;
    }

    /** Removes the subscription (the umem's release). */
    public void release() {
        sub.mmuIntervalNotifierRemove();
    }
}
