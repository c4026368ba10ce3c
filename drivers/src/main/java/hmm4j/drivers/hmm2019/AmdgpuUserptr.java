package hmm4j.drivers.hmm2019;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.hmm2019.Hmm2019Walk;
import hmm4j.kernel.mm.hmm2019.HmmMirror;
import hmm4j.kernel.mm.hmm2019.HmmMirrorOps;
import hmm4j.kernel.mm.hmm2019.HmmRange2019;
import hmm4j.kernel.mm.hmm2019.HmmUpdate;
import hmm4j.kernel.mm.hmm2019.MmHmm;
import hmm4j.kernel.workqueue.WorkStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.RwSemaphore;

/**
 * An amdgpu-style userptr path (amdgpu_mn.c, amdgpu_ttm.c of 5.3/5.4): one {@code amdgpu_mn}
 * per mm registered under {@code adev->mn_lock} and {@code mmap_sem} (write), a sync that
 * takes {@code amn->lock} for read (a trylock, {@code -EAGAIN}, when it may not block), a
 * {@code ->release} that only queues {@code amdgpu_mn_destroy} on a work item (the only
 * place the mirror is unregistered), and {@code amdgpu_ttm_tt_get_user_pages}:
 * <ul>
 *   <li>historical (5.3/5.4): {@code find_vma} on the task's mm without {@code mmap_sem} and
 *       without mmget, then register, wait, fault under {@code mmap_sem}; the range stays
 *       registered until {@link #getUserPagesDone};</li>
 *   <li>fixed (5.5, "Call find_vma under mmap_sem"): {@code mmget_not_zero} first, then the
 *       lookup under {@code mmap_sem}.</li>
 * </ul>
 * Lock order: {@code mn_lock} → {@code mmap_sem} (W) → {@code mirrors_sem} (W);
 * {@code mn_lock} → {@code amn->lock} (W) in destroy.
 */
public final class AmdgpuUserptr {
    private final MmStruct mm;
    private final Mutex mnLock;
    private final RwSemaphore lock;
    private final HmmMirror mirror;
    private final WorkStruct destroyWork;
    private final boolean fixed;

    private AmdgpuUserptr(Kernel k, MmStruct mm, Mutex mnLock, boolean fixed) {
        this.mm = mm;
        this.mnLock = mnLock;
        this.fixed = fixed;
        this.lock = new RwSemaphore(k, "amn->lock", "amn->lock");
        this.destroyWork = new WorkStruct(k, "amn->work", w -> destroy());
        this.mirror = new HmmMirror(k, "amdgpu-mn", new HmmMirrorOps() {
            @Override
            public int syncCpuDevicePagetables(HmmMirror m, HmmUpdate update) {
                if (update.blockable()) {
                    lock.downRead();
                } else if (!lock.downReadTrylock()) {
                    return -Errno.EAGAIN;
                }
                lock.upRead();
                return 0;
            }

            @Override
            public void release(HmmMirror m) {
                destroyWork.scheduleWork();
            }
        });
    }

    /** {@code amdgpu_mn_get}: registers the mirror under {@code mn_lock} and {@code mmap_sem} (write). */
    public static AmdgpuUserptr get(Kernel k, MmStruct mm, Mutex mnLock, boolean fixed) {
        AmdgpuUserptr amn = new AmdgpuUserptr(k, mm, mnLock, fixed);
        mnLock.lock();
        mm.mmapWriteLock();
        int ret = amn.mirror.register(mm);
        mm.mmapWriteUnlock();
        mnLock.unlock();
        if (ret != 0) {
            throw new IllegalStateException("amdgpu_mn_get: hmm_mirror_register returned " + ret);
        }
        return amn;
    }

    /** {@code amdgpu_mn_destroy} (the work item): {@code mn_lock} → {@code amn->lock} (W) → unregister. */
    private void destroy() {
        mnLock.lock();
        lock.downWrite();
        mirror.unregister();
        lock.upWrite();
        mnLock.unlock();
    }

    public HmmMirror mirror() {
        return mirror;
    }

    /**
     * {@code amdgpu_ttm_tt_get_user_pages} for [start, start + pages): the registered range
     * (left registered for {@link #getUserPagesDone}), or null on an error.
     */
    public HmmRange2019 getUserPages(long start, int pages) {
        boolean pinned = false;
        if (fixed) {
            if (!mm.mmgetNotZero()) {
                return null;
            }
            pinned = true;
            mm.mmapReadLock();
        }
        try {
            Vma vma = fixed ? mm.findVma(start) : mm.vmas("find_vma (no mmap_sem)").findVma(start);
            if (vma == null || vma.vmStart() > start) {
                return null;
            }
            HmmRange2019 range = new HmmRange2019(mm.kernel(), "userptr-range", start, start + pages * Pte.PAGE_SIZE,
                    new long[pages]);
            range.setRequest(HmmRange2019.FLAG_VALID, 0);
            if (DocumentedPattern.register(range, mirror, mm, MmHmm.of(mm).config()) != 0) {
                return null;
            }
            range.waitUntilValid(HmmRange2019.DEFAULT_TIMEOUT_MS);
            if (!fixed) {
                mm.mmapReadLock();
            }
            long r = Hmm2019Walk.hmmRangeFault(range, true);
            if (!fixed) {
                mm.mmapReadUnlock();
            }
            if (r < 0) {
                range.unregister();
                return null;
            }
            return range;
        } finally {
            if (fixed) {
                mm.mmapReadUnlock();
            }
            if (pinned) {
                mm.mmput();
            }
        }
    }

    /** {@code amdgpu_ttm_tt_get_user_pages_done}: {@code hmm_range_valid}, then unregister. */
    public boolean getUserPagesDone(HmmRange2019 range) {
        boolean valid = range.valid();
        range.unregister();
        return valid;
    }
}
