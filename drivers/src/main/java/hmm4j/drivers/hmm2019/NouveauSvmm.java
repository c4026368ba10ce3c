package hmm4j.drivers.hmm2019;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.hmm2019.Hmm2019Config;
import hmm4j.kernel.mm.hmm2019.Hmm2019Walk;
import hmm4j.kernel.mm.hmm2019.HmmMirror;
import hmm4j.kernel.mm.hmm2019.HmmMirrorOps;
import hmm4j.kernel.mm.hmm2019.HmmRange2019;
import hmm4j.kernel.mm.hmm2019.HmmUpdate;
import hmm4j.kernel.mm.hmm2019.MmHmm;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Mutex;

/**
 * A nouveau-style SVM context (nouveau_svm.c of 5.3): one mirror per client VMM on the
 * process's mm, an empty {@code ->release}, a sync that takes {@code svmm->mutex}, and a
 * fault worker that runs outside the process, takes {@code mmap_sem} for read on the plain
 * {@code svmm->mm} pointer (no mmget) and loops on the range fault helper.
 *
 * <p>Two forms of the helper: historical ({@code hmm_vma_fault} of hmm.h, which drops
 * {@code mmap_sem} on some error paths only, with a caller that unlocks on every error, so
 * some errors unlock twice) and fixed (the 5.3-rc {@code nouveau_range_fault}, which drops it
 * on every error, and a caller that unlocks only on success).
 *
 * <p>Locking: {@code mmap_sem} (read) → {@code svmm->mutex}; the range is unregistered under
 * both (so in v5.3 its {@code mmput} must not be the last: the process outlives the worker).
 */
public final class NouveauSvmm {
    private final MmStruct mm;
    private final Mutex mutex;
    private final HmmMirror mirror;
    private final boolean fixed;
    private int invalidations;
    private int programmed;

    private NouveauSvmm(Kernel k, MmStruct mm, String name, boolean fixed) {
        this.mm = mm;
        this.fixed = fixed;
        this.mutex = new Mutex(k, "svmm->mutex", name + "->mutex");
        this.mirror = new HmmMirror(k, name + "->mirror", new HmmMirrorOps() {
            @Override
            public int syncCpuDevicePagetables(HmmMirror m, HmmUpdate update) {
                if (!update.blockable()) {
                    if (!mutex.trylock()) {
                        return -Errno.EAGAIN;
                    }
                } else {
                    mutex.lock();
                }
                invalidations++;
                mutex.unlock();
                return 0;
            }

            @Override
            public void release(HmmMirror m) {
                // nouveau's release is empty: teardown is nouveau_svmm_fini's
            }
        });
    }

    /** {@code nouveau_svmm_init}: registers the mirror with {@code mmap_sem} held for write. */
    public static NouveauSvmm init(Kernel k, MmStruct mm, String name, boolean fixed) {
        NouveauSvmm svmm = new NouveauSvmm(k, mm, name, fixed);
        mm.mmapWriteLock();
        int ret = svmm.mirror.register(mm);
        mm.mmapWriteUnlock();
        if (ret != 0) {
            throw new IllegalStateException("nouveau_svmm_init: hmm_mirror_register returned " + ret);
        }
        return svmm;
    }

    /** {@code nouveau_svmm_fini}: unregisters the mirror (once; nouveau serialises its teardown). */
    public void fini() {
        mirror.unregister();
    }

    public HmmMirror mirror() {
        return mirror;
    }

    /** Invalidations the device saw (under the mutex). */
    public int invalidations() {
        return invalidations;
    }

    /** Faults pushed to the GPU. */
    public int programmed() {
        return programmed;
    }

    /**
     * {@code nouveau_svm_fault} for [start, start + pages): returns 0 once the pages were
     * pushed to the GPU, or the helper's error.
     */
    public int fault(long start, int pages) {
        mm.mmapReadLock();
        for (int tries = 0; tries < DocumentedPattern.MAX_TRIES; tries++) {
            HmmRange2019 range = new HmmRange2019(mm.kernel(), "svm-range", start,
                    start + pages * hmm4j.kernel.mm.Pte.PAGE_SIZE, new long[pages]);
            int ret = fixed ? nouveauRangeFault(range) : hmmVmaFault(range);
            if (ret != 0) {
                if (!fixed) {
                    mm.mmapReadUnlock();
                }
                return ret;
            }
            mutex.lock();
            if (!nouveauRangeDone(range)) {
                mutex.unlock();
                continue;
            }
            programmed++;
            mutex.unlock();
            mm.mmapReadUnlock();
            return 0;
        }
        mm.mmapReadUnlock();
        return -Errno.EBUSY;
    }

    private int register(HmmRange2019 range) {
        Hmm2019Config c = MmHmm.of(mm).config();
        range.setRequest(HmmRange2019.FLAG_VALID, 0);
        return DocumentedPattern.register(range, mirror, mm, c);
    }

    /** The hmm.h compatibility helper {@code hmm_vma_fault(range, block)} (v5.2, 5.3-rc1). */
    private int hmmVmaFault(HmmRange2019 range) {
        int ret = register(range);
        if (ret != 0) {
            return ret;
        }
        if (!range.waitUntilValid(HmmRange2019.DEFAULT_TIMEOUT_MS)) {
            range.unregister();
            mm.mmapReadUnlock();
            return -Errno.EAGAIN;
        }
        long r = Hmm2019Walk.hmmRangeFault(range, true);
        if (r <= 0) {
            range.unregister();
            if (r == 0 || r == -Errno.EBUSY) {
                mm.mmapReadUnlock();
                return -Errno.EBUSY;
            }
            return r == -Errno.EAGAIN ? -Errno.EBUSY : (int) r;
        }
        return 0;
    }

    /** The 5.3-rc {@code nouveau_range_fault}: drops {@code mmap_sem} on every error. */
    private int nouveauRangeFault(HmmRange2019 range) {
        int ret = register(range);
        if (ret != 0) {
            mm.mmapReadUnlock();
            return ret;
        }
        if (!range.waitUntilValid(HmmRange2019.DEFAULT_TIMEOUT_MS)) {
            range.unregister();
            mm.mmapReadUnlock();
            return -Errno.EBUSY;
        }
        long r = Hmm2019Walk.hmmRangeFault(range, true);
        if (r <= 0) {
            if (r == 0) {
                r = -Errno.EBUSY;
            }
            if (r != -Errno.EAGAIN) {
                mm.mmapReadUnlock();
            }
            range.unregister();
            return (int) r;
        }
        return 0;
    }

    /** {@code nouveau_range_done}: {@code hmm_range_valid} and unregister; the caller holds the mutex. */
    private static boolean nouveauRangeDone(HmmRange2019 range) {
        boolean valid = range.valid();
        range.unregister();
        return valid;
    }
}
