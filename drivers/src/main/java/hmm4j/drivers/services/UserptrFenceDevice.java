package hmm4j.drivers.services;

import hmm4j.kernel.dma.DmaFence;
import hmm4j.kernel.dma.DmaFenceOps;
import hmm4j.kernel.dma.DmaResv;
import hmm4j.kernel.dma.DmaResvUsage;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.SpinLock;

/**
 * A GPU-style device with a user-pointer buffer object, as amdgpu's and xe's userptr
 * handling works: an interval notifier over the user range whose invalidate takes the
 * device's {@code notifier_lock}, bumps the sequence and waits, still under that lock, for
 * every fence in the buffer's reservation object (the jobs still using the pages). Jobs are
 * submitted with a fence added to the reservation object; the ring's completion path
 * signals it inside a fence-signalling section.
 *
 * <p>In the wrong design the completion path takes {@code notifier_lock} (to count the
 * finished job in state the notifier also reads) before signalling. An invalidation that
 * waits under that lock for the job's fence then deadlocks with the completion that waits
 * for the lock; lockdep's fence annotations report the cycle {@code notifier_lock ->
 * dma_fence_map -> notifier_lock} whenever both halves are seen, whether or not the run
 * deadlocks. The fixed design counts under its own ring lock, which no waiter holds.
 */
public final class UserptrFenceDevice {
    private static final DmaFenceOps OPS = new DmaFenceOps() {
        @Override
        public String getDriverName(DmaFence fence) {
            return "userptr-dev";
        }

        @Override
        public String getTimelineName(DmaFence fence) {
            return "ring0";
        }
    };

    private final Kernel kernel;
    private final boolean completionTakesNotifierLock;
    private final Mutex notifierLock;
    private final Mutex ringLock;
    private final SpinLock fenceLock;
    private final DmaResv resv;
    private final MmuIntervalNotifier notifier;
    private final long context;
    private long seqno;
    private int completed;

    private UserptrFenceDevice(Kernel kernel, MmStruct mm, long start, long length, boolean buggy) {
        this.kernel = kernel;
        this.completionTakesNotifierLock = buggy;
        this.notifierLock = new Mutex(kernel, "adev->notifier_lock");
        this.ringLock = new Mutex(kernel, "ring->lock");
        this.fenceLock = new SpinLock(kernel, "ring->fence_lock");
        this.resv = new DmaResv(kernel, "bo->resv");
        this.context = DmaFence.dmaFenceContextAlloc(kernel, 1);
        this.notifier = new MmuIntervalNotifier("bo->notifier");
        int ret = notifier.mmuIntervalNotifierInsert(mm, start, length, (sub, range, curSeq) -> {
            if (!range.blockable()) {
                return false;
            }
            notifierLock.lock();
            try {
                sub.mmuIntervalSetSeq(curSeq);
                resv.dmaResvWaitTimeout(DmaResvUsage.BOOKKEEP, false, DmaFence.MAX_SCHEDULE_TIMEOUT);
            } finally {
                notifierLock.unlock();
            }
            return true;
        });
        if (ret != 0) {
            throw new IllegalStateException("mmu_interval_notifier_insert failed: " + ret);
        }
    }

    /** The wrong design: the completion path takes {@code notifier_lock}. Process context. */
    public static UserptrFenceDevice completionUnderNotifierLock(Kernel k, MmStruct mm, long start, long length) {
        return new UserptrFenceDevice(k, mm, start, length, true);
    }

    /** The fixed design: the completion path takes only the ring's lock. Process context. */
    public static UserptrFenceDevice completionUnderRingLock(Kernel k, MmStruct mm, long start, long length) {
        return new UserptrFenceDevice(k, mm, start, length, false);
    }

    /**
     * Submits a job: under the reservation lock, a new fence on the ring's timeline is added
     * to the buffer's reservation object. May sleep.
     *
     * @return the job's fence, with a reference for the ring (dropped by {@link #complete})
     */
    public DmaFence submit() {
        resv.dmaResvLock();
        try {
            if (resv.dmaResvReserveFences(1) != 0) {
                throw new IllegalStateException("dma_resv_reserve_fences failed");
            }
            DmaFence fence = new DmaFence(kernel, OPS, fenceLock, context, ++seqno);
            resv.dmaResvAddFence(fence, DmaResvUsage.BOOKKEEP);
            return fence;
        } finally {
            resv.dmaResvUnlock();
        }
    }

    /** The ring's completion of the job of {@code fence}: counts it, signals and drops the fence. */
    public void complete(DmaFence fence) {
        boolean cookie = DmaFence.dmaFenceBeginSignalling(kernel);
        try {
            Mutex lock = completionTakesNotifierLock ? notifierLock : ringLock;
            lock.lock();
            try {
                completed++;
            } finally {
                lock.unlock();
            }
            fence.dmaFenceSignal();
        } finally {
            DmaFence.dmaFenceEndSignalling(kernel, cookie);
        }
        fence.dmaFencePut();
    }

    /** The number of completed jobs. */
    public int completed() {
        return completed;
    }

    /** Release: removes the subscription and frees the reservation object. Process context. */
    public void release() {
        notifier.mmuIntervalNotifierRemove();
        resv.dmaResvFini();
    }
}
