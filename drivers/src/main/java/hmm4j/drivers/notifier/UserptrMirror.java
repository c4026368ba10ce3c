package hmm4j.drivers.notifier;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.devmap.DeviceMap;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.Mutex;

/**
 * A user-pointer buffer object mirrored into a device, as GPU drivers do for userptr BOs: one
 * interval subscription over the buffer, device entries filled by {@code hmm_range_fault} and
 * committed under {@code notifier_lock} after {@code mmu_interval_read_retry}, declared to the
 * device-mapping checker ({@link DeviceMap}).
 *
 * <p>The question is what it does when the OOM reaper invalidates its buffer, the one caller of
 * non-blockable invalidations. {@link #refusingNonblockable} answers "would block" to every
 * non-blockable range without looking (the shape of amdgpu's {@code amdgpu_hmm_invalidate_gfx}:
 * {@code if (!mmu_notifier_range_blockable(range)) return false;}, taken because the blockable
 * path waits for the GPU): the reaper can never unmap the VMA under the buffer, retries, and
 * gives up ({@code oom_reaper: unable to reap}) — the victim's memory stays until it has
 * finished exiting, and the OOM killer moves on to another victim. {@link #trylocking} takes
 * its lock with {@code mutex_trylock} on a non-blockable range, refuses only while its fault
 * path holds the lock, and drops its entries as for any unmap: the reaper's next attempt
 * succeeds, and the device's later faults on the reaped buffer fail ({@code MMF_UNSTABLE}),
 * so it maps nothing after the reap.
 */
public final class UserptrMirror {
    /** Coverage mark: a device fault on the buffer failed after the OOM reaper took it. */
    public static final Mark FAULT_AFTER_REAP = Mark.of("driver.userptr.fault-after-reap",
            "A userptr device fault failed with -EFAULT after the OOM reaper had unmapped the buffer");

    private final Kernel kernel;
    private final MmStruct mm;
    private final Mutex notifierLock;
    private final MmuIntervalNotifier notifier;
    private final DeviceMap pt;

    private UserptrMirror(Kernel kernel, MmStruct mm, long start, long length, boolean trylock) {
        this.kernel = kernel;
        this.mm = mm;
        this.notifierLock = new Mutex(kernel, "userptr->notifier_lock");
        this.pt = DeviceMap.create(mm, "userptr->pt", this);
        this.notifier = new MmuIntervalNotifier("userptr->notifier");
        int ret = notifier.mmuIntervalNotifierInsert(mm, start, length, (sub, range, curSeq) -> {
            if (!trylock && !range.blockable()) {
                return false;
            }
            if (!InvalidateLock.lockFor(notifierLock, range)) {
                return false;
            }
            sub.mmuIntervalSetSeq(curSeq);
            pt.unmapRange(range.start(), range.end());
            notifierLock.unlock();
            return true;
        });
        if (ret != 0) {
            throw new IllegalStateException("mmu_interval_notifier_insert failed: " + ret);
        }
    }

    /** The wrong design: every non-blockable invalidation is refused. Process context. */
    public static UserptrMirror refusingNonblockable(Kernel kernel, MmStruct mm, long start, long length) {
        return new UserptrMirror(kernel, mm, start, length, false);
    }

    /** The fixed design: trylock on a non-blockable range, refuse only on contention. Process context. */
    public static UserptrMirror trylocking(Kernel kernel, MmStruct mm, long start, long length) {
        return new UserptrMirror(kernel, mm, start, length, true);
    }

    /**
     * Faults the page at {@code addr} into the device, read-only: the {@code hmm_range_fault}
     * loop of Documentation/mm/hmm.rst. May sleep.
     *
     * @return 0 or a negative errno ({@code -EFAULT} once the OOM reaper has been here)
     */
    public int fault(long addr) {
        long page = addr & Pte.PAGE_MASK;
        long[] pfns = new long[1];
        HmmRange range = new HmmRange(notifier, page, page + Pte.PAGE_SIZE, pfns, HmmPfn.HMM_PFN_REQ_FAULT, 0,
                this);
        while (true) {
            range.setNotifierSeq(notifier.mmuIntervalReadBegin());
            int ret;
            mm.mmapReadLock();
            try {
                ret = Hmm.hmmRangeFault(range);
            } finally {
                mm.mmapReadUnlock();
            }
            if (ret == -Errno.EBUSY) {
                continue;
            }
            if (ret != 0) {
                if (ret == -Errno.EFAULT) {
                    kernel.mark(FAULT_AFTER_REAP);
                }
                return ret;
            }
            notifierLock.lock();
            try {
                if (notifier.mmuIntervalReadRetry(range.notifierSeq())) {
                    continue;
                }
                Page p = HmmPfn.hmmPfnToPage(PhysMem.of(kernel), pfns[0]);
                pt.map(page, p, false);
                return 0;
            } finally {
                notifierLock.unlock();
            }
        }
    }

    /** Release: removes the subscription and destroys the device table. Process context. */
    public void release() {
        notifier.mmuIntervalNotifierRemove();
        notifierLock.lock();
        try {
            pt.close();
        } finally {
            notifierLock.unlock();
        }
    }
}
