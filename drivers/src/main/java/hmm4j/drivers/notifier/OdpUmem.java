package hmm4j.drivers.notifier;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.RwSemaphore;

/**
 * S3c: an on-demand-paging umem of an RDMA device. Device page faults map pages under
 * {@code umem_mutex}; invalidations must unmap them under the same mutex.
 *
 * <p>{@link #classic} is the June 2019 ODP design: a classic start/end pair that holds the
 * per-mm {@code umem_rwsem} for read from start to end. On a non-blockable range (the OOM
 * reaper) the start trylocks; when the umem mutex is busy it returns {@code -EAGAIN}
 * <em>with the rwsem still held</em>, and since no end follows a failed start, nothing ever
 * releases it — the next teardown's {@code down_write} hangs. The core's rule that a
 * subscription whose start can fail has no end op reports it at the failure.
 *
 * <p>{@link #interval} is the design ODP moved to: one bool-returning interval callback
 * that trylocks and, when it cannot proceed, returns false holding nothing.
 */
public final class OdpUmem {
    /** Writing the device page table for a fault; target: this umem's device mappings. */
    private static final Op.Kind PROGRAM_DEVICE_PAGE_TABLE = new Op.Kind("odp: program device page table",
            Op.Access.WRITE);

    private final Kernel kernel;
    private final Op programOp;
    private final Mutex umemMutex;
    private final RwSemaphore umemRwsem;
    private long mappedPages;
    private MmuNotifier classicSub;
    private MmuIntervalNotifier intervalSub;

    private OdpUmem(Kernel kernel) {
        this.kernel = kernel;
        this.umemMutex = new Mutex(kernel, "umem_odp->umem_mutex");
        this.umemRwsem = new RwSemaphore(kernel, "per_mm->umem_rwsem", "per_mm->umem_rwsem");
        this.programOp = new Op(PROGRAM_DEVICE_PAGE_TABLE, kernel.newTarget("umem_odp->device_page_table"),
                "odp: program device page table");
    }

    /** The 2019 design: a classic subscription with a start/end pair around the rwsem. */
    public static OdpUmem classic(Kernel kernel, MmStruct mm) {
        OdpUmem umem = new OdpUmem(kernel);
        umem.classicSub = new MmuNotifier("odp-umem", new MmuNotifierOps() {
            @Override
            public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange range) {
                if (range.blockable()) {
                    umem.umemRwsem.downRead();
                } else if (!umem.umemRwsem.downReadTrylock()) {
                    return -Errno.EAGAIN;
                }
                if (range.blockable()) {
                    umem.umemMutex.lock();
                } else if (!umem.umemMutex.trylock()) {
                    return -Errno.EAGAIN;
                }
                umem.mappedPages = 0;
                umem.umemMutex.unlock();
                return 0;
            }

            @Override
            public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange range) {
                umem.umemRwsem.upRead();
            }
        });
        umem.classicSub.register(mm);
        return umem;
    }

    /** The fixed design: an interval subscription over [start, start + length). */
    public static OdpUmem interval(Kernel kernel, MmStruct mm, long start, long length) {
        OdpUmem umem = new OdpUmem(kernel);
        umem.intervalSub = new MmuIntervalNotifier("odp-umem");
        umem.intervalSub.mmuIntervalNotifierInsert(mm, start, length, (s, range, curSeq) -> {
            if (!InvalidateLock.lockFor(umem.umemMutex, range)) {
                return false;
            }
            s.mmuIntervalSetSeq(curSeq);
            umem.mappedPages = 0;
            umem.umemMutex.unlock();
            return true;
        });
        return umem;
    }

    /** A device page fault mapping {@code pages} pages under the umem mutex. */
    public void deviceFault(long pages) {
        umemMutex.lock();
        kernel.point(programOp);
        mappedPages += pages;
        umemMutex.unlock();
    }

    /** Device teardown: excludes every invalidation ({@code down_write}), then unsubscribes. */
    public void release(MmStruct mm) {
        umemRwsem.downWrite();
        mappedPages = 0;
        umemRwsem.upWrite();
        if (classicSub != null) {
            classicSub.unregister(mm);
        } else {
            intervalSub.mmuIntervalNotifierRemove();
        }
    }

    public long mappedPages() {
        return mappedPages;
    }
}
