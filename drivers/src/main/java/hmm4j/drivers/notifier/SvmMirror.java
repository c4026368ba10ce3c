package hmm4j.drivers.notifier;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.workqueue.WorkStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.Mutex;
import java.util.ArrayList;
import java.util.List;

/**
 * U1: an amdkfd-style SVM mirror (drivers/gpu/drm/amd/amdkfd/kfd_svm.c): the device mirrors
 * a region of the process as page-sized ranges, each a driver object on the list
 * {@code svms->list} under {@code svms->lock}, under one interval subscription. A GPU fault
 * takes the mmap lock for read, looks its range up under {@code svms->lock}, and faults and
 * uses it with only the mmap read lock held.
 *
 * <p>munmap runs its UNMAP invalidation after downgrading the mmap lock to read
 * ({@code vms_complete_munmap_vmas}), so that callback runs concurrently with such a fault,
 * which then gets {@code -EFAULT} from {@code hmm_range_fault}. {@link #create}{@code (..., true)}
 * frees the ranges of the unmapped area in the callback: the fault still using one touches
 * freed memory. {@code create(..., false)} is amdkfd's design: the callback only takes the
 * ranges off the list onto a deferred list and schedules a work item
 * ({@code svm_range_deferred_list_work}) that takes the mmap lock for write — which waits for
 * every fault holding it for read — before freeing them.
 */
public final class SvmMirror extends KObject {
    /** Coverage mark: a GPU fault's hmm_range_fault met a range munmap had detached (-EFAULT). */
    public static final Mark FAULT_ON_UNMAPPED = Mark.of("svm.fault.efault-on-unmapped",
            "An SVM GPU fault's hmm_range_fault returned -EFAULT for a range being unmapped");
    /** Coverage mark: the deferred-list work freed ranges an UNMAP callback had queued. */
    public static final Mark DEFERRED_FREE = Mark.of("svm.deferred-list.freed",
            "The SVM deferred-list work freed ranges an UNMAP callback had queued");

    /** One mirrored range ({@code struct svm_range}). */
    private static final class SvmRange extends KObject {
        final long start;
        final long end;
        boolean mapped;

        SvmRange(Kernel kernel, long start, long end) {
            super(kernel, "svm_range@0x" + Long.toHexString(start));
            this.start = start;
            this.end = end;
        }
    }

    private final MmStruct mm;
    private final Mutex svmsLock;
    private final MmuIntervalNotifier sub = new MmuIntervalNotifier("svms->notifier");
    private final boolean freeInCallback;
    private final List<SvmRange> ranges = new ArrayList<>();
    private final List<SvmRange> deferred = new ArrayList<>();
    private final WorkStruct deferredWork;

    private SvmMirror(Kernel kernel, MmStruct mm, boolean freeInCallback) {
        super(kernel, "svms");
        this.mm = mm;
        this.svmsLock = new Mutex(kernel, "svms->lock");
        this.freeInCallback = freeInCallback;
        this.deferredWork = new WorkStruct(this, "svms->deferred_list_work", SvmMirror::deferredListWork);
    }

    /**
     * Mirrors {@code npages} pages from {@code start} of {@code mm} as one range per page;
     * {@code freeInCallback} chooses the buggy UNMAP handling. Call from a task of the mm.
     */
    public static SvmMirror create(Kernel kernel, MmStruct mm, long start, int npages, boolean freeInCallback) {
        SvmMirror m = new SvmMirror(kernel, mm, freeInCallback);
        for (int i = 0; i < npages; i++) {
            long a = start + (long) i * Pte.PAGE_SIZE;
            m.ranges.add(new SvmRange(kernel, a, a + Pte.PAGE_SIZE));
        }
        int ret = m.sub.mmuIntervalNotifierInsert(mm, start, (long) npages * Pte.PAGE_SIZE, m::invalidate);
        if (ret != 0) {
            throw new IllegalStateException("mmu_interval_notifier_insert failed: " + ret);
        }
        return m;
    }

    /**
     * A GPU fault at {@code addr} ({@code svm_range_restore_pages}): the caller holds an
     * {@code mm_users} pin. Returns 0, or the error of {@code hmm_range_fault}; a fault on an
     * address with no range is ignored (0).
     */
    public int gpuFault(long addr) {
        while (true) {
            long seq = sub.mmuIntervalReadBegin();
            mm.mmapReadLock();
            SvmRange prange;
            svmsLock.lock();
            try {
                prange = find(addr);
            } finally {
                svmsLock.unlock();
            }
            if (prange == null) {
                mm.mmapReadUnlock();
                return 0;
            }
            int ret;
            try {
                prange.checkAccess("svm_range_restore_pages");
                HmmRange range = new HmmRange(sub, prange.start, prange.end, new long[1],
                        HmmPfn.HMM_PFN_REQ_FAULT, 0, null);
                range.setNotifierSeq(seq);
                ret = Hmm.hmmRangeFault(range);
                prange.checkAccess("svm_range_validate_and_map");
            } finally {
                mm.mmapReadUnlock();
            }
            if (ret == -Errno.EBUSY) {
                continue;
            }
            if (ret != 0) {
                if (ret == -Errno.EFAULT) {
                    kernel().mark(FAULT_ON_UNMAPPED);
                }
                return ret;
            }
            svmsLock.lock();
            try {
                if (sub.mmuIntervalReadRetry(seq)) {
                    continue;
                }
                if (find(addr) == prange) {
                    prange.mapped = true;
                }
                return 0;
            } finally {
                svmsLock.unlock();
            }
        }
    }

    private SvmRange find(long addr) {
        for (SvmRange r : ranges) {
            if (addr >= r.start && addr < r.end) {
                return r;
            }
        }
        return null;
    }

    /** {@code svm_range_cpu_invalidate_pagetables}. */
    private boolean invalidate(MmuIntervalNotifier s, MmuNotifierRange range, long curSeq) {
        if (!InvalidateLock.lockFor(svmsLock, range)) {
            return false;
        }
        try {
            s.mmuIntervalSetSeq(curSeq);
            List<SvmRange> gone = new ArrayList<>();
            for (SvmRange r : ranges) {
                if (range.overlaps(r.start, r.end)) {
                    r.mapped = false;
                    if (range.event() == MmuNotifierEvent.MMU_NOTIFY_UNMAP) {
                        gone.add(r);
                    }
                }
            }
            ranges.removeAll(gone);
            if (freeInCallback) {
                gone.forEach(KObject::kfree);
            } else if (!gone.isEmpty()) {
                deferred.addAll(gone);
                deferredWork.scheduleWork();
            }
            return true;
        } finally {
            svmsLock.unlock();
        }
    }

    /** {@code svm_range_deferred_list_work}: frees the unmapped ranges with every fault excluded. */
    private static void deferredListWork(WorkStruct work) {
        SvmMirror m = (SvmMirror) work.container();
        boolean pinned = m.mm.mmgetNotZero();
        if (pinned) {
            m.mm.mmapWriteLock();
        }
        try {
            m.svmsLock.lock();
            try {
                m.checkAccess("svm_range_deferred_list_work");
                if (!m.deferred.isEmpty()) {
                    m.kernel().mark(DEFERRED_FREE);
                }
                m.deferred.forEach(KObject::kfree);
                m.deferred.clear();
            } finally {
                m.svmsLock.unlock();
            }
        } finally {
            if (pinned) {
                m.mm.mmapWriteUnlock();
                m.mm.mmput();
            }
        }
    }

    /** The device's release: removes the subscription, waits for the work, frees every range. */
    public void release() {
        sub.mmuIntervalNotifierRemove();
        deferredWork.cancelWorkSync();
        svmsLock.lock();
        try {
            ranges.forEach(KObject::kfree);
            ranges.clear();
            deferred.forEach(KObject::kfree);
            deferred.clear();
        } finally {
            svmsLock.unlock();
        }
    }
}
