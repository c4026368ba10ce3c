package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.GET;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P01;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P07;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P11;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P12;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.RefHolder;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.RwSemaphore;
import java.util.List;

/**
 * The {@code mmu_notifier_ops} of {@code struct hmm}: {@code hmm_release},
 * {@code hmm_invalidate_range_start} and {@code hmm_invalidate_range_end} (with
 * {@code notifiers_decrement}), and v5.4's {@code alloc_notifier}/{@code free_notifier}.
 *
 * <p>Overview: v5.2 finds the hmm through {@code mm_get_hmm} (a NULL result is the
 * {@code VM_BUG_ON}, rule hmm2019.null-hmm); v5.3 uses {@code container_of} and a
 * {@code kref_get_unless_zero} that may fail (then the callback does nothing); v5.4 only
 * {@code container_of}. Every callback first checks that the hmm memory it reaches is
 * allocated (I-H7). Start raises {@code hmm->notifiers}, marks the overlapping ranges
 * invalid and calls every mirror's sync under {@code mirrors_sem} (read); end lowers it and,
 * at 0, marks every range valid and wakes the waiters.
 *
 * <p>Differences from the kernel: one instance per hmm holds the hmm (the
 * {@code container_of} of v5.2/v5.3); v5.4's get/put needs one shared instance, which finds
 * the hmm as the subscription's container.
 */
final class Hmm2019Notifier implements MmuNotifierOps {
    private final Hmm2019 hmm;

    Hmm2019Notifier(Hmm2019 hmm) {
        this.hmm = hmm;
    }

    /**
     * The hmm of a callback with a temporary reference for {@code me}, or null when the
     * callback must do nothing (v5.3's failed {@code kref_get_unless_zero}) or the kernel
     * would have oopsed (v5.2's NULL, reported).
     */
    private Hmm2019 enter(MmuNotifier sub, MmStruct mm, RefHolder me, String callback) {
        Hmm2019 h = hmm != null ? hmm : (Hmm2019) sub.container();
        Kernel k = mm.kernel();
        if (!h.config().has(P01) && !h.config().has(GET)) {
            return mmGetHmm(h, mm, me, callback);
        }
        if (h.isFreed()) {
            k.report(new Failure.UseAfterFree(h.name(), callback + " of " + sub.name(), h.allocSite(), h.freeSite(),
                    k.site(), Hmm2019Rules.CALLBACK_HMM_LIVE));
            return null;
        }
        Hmm2019Config config = h.config();
        if (config.has(GET)) {
            return h;
        }
        if (config.has(P01)) {
            if (!h.kgetUnlessZero(me, Hmm2019Rules.CALLBACK_HMM_LIVE)) {
                k.mark(Hmm2019.CALLBACK_KREF_ZERO);
                return null;
            }
            return h;
        }
        return mmGetHmm(h, mm, me, callback);
    }

    /**
     * v5.2: the callback's first access is {@code mm_get_hmm} (the core's read of the ops
     * table is not checked), so a callback after the free finds {@code mm->hmm} NULL, and
     * one whose read of the pointer preceded the free touches freed memory at the kref.
     */
    private static Hmm2019 mmGetHmm(Hmm2019 h, MmStruct mm, RefHolder me, String callback) {
        Kernel k = mm.kernel();
        Hmm2019 got = Hmm2019.mmGetHmm(mm, me, Hmm2019Rules.CALLBACK_HMM_LIVE);
        if (got == null) {
            k.report(new Failure.InvariantViolation(Hmm2019Rules.NULL_HMM, "VM_BUG_ON(!hmm) in " + callback
                    + ": mm_get_hmm(" + mm.name() + ") returned NULL (" + h.name() + " kref " + h.krefPeek()
                    + (h.isFreed() ? ", freed" : "") + ")", k.site()));
        }
        return got;
    }

    private static void leave(Hmm2019 h, RefHolder me) {
        if (!h.config().has(GET)) {
            h.put(me);
        }
    }

    // ---- release ----

    @Override
    public void release(MmuNotifier sub, MmStruct mm) {
        RefHolder me = RefHandle.current(mm.kernel());
        Hmm2019 h = enter(sub, mm, me, "hmm_release");
        if (h == null) {
            return;
        }
        Hmm2019Config config = h.config();
        Kernel k = mm.kernel();
        if (!config.has(P07)) {
            h.setDead();
            h.rangesLock();
            for (HmmRange2019 r : h.ranges()) {
                r.setValidLocked(false);
            }
            h.wq().wakeUpAll();
            h.rangesUnlock();
        } else if (h.rangeCountPeek() != 0) {
            k.report(new Failure.InvariantViolation(Hmm2019Rules.RELEASE_NO_RANGES, "WARN_ON(!list_empty(&hmm->ranges)): "
                    + h.rangeCountPeek() + " range(s) still registered on " + h.name() + " at hmm_release", k.site()));
        }
        RwSemaphore sem = h.mirrorsSem();
        if (config.has(P11)) {
            sem.downRead();
            try {
                for (HmmMirror m : List.copyOf(h.mirrors())) {
                    if (m.hasRelease()) {
                        m.releaseWindow();
                        callRelease(h, m);
                    }
                }
            } finally {
                sem.upRead();
            }
        } else {
            sem.downWrite();
            List<HmmMirror> mirrors = h.mirrors();
            while (!mirrors.isEmpty()) {
                HmmMirror m = mirrors.remove(0);
                m.setSelfLinked();
                if (m.hasRelease()) {
                    sem.upWrite();
                    m.releaseWindow();
                    callRelease(h, m);
                    sem.downWrite();
                    mirrors = h.mirrors();
                }
            }
            sem.upWrite();
        }
        leave(h, me);
    }

    private static void callRelease(Hmm2019 h, HmmMirror m) {
        h.kernel().mark(Hmm2019.RELEASE_CALLED);
        h.setReleasingTask(h.kernel().current());
        try {
            m.callRelease();
        } finally {
            h.setReleasingTask(null);
        }
    }

    // ---- invalidate_range_start / end ----

    @Override
    public int invalidateRangeStart(MmuNotifier sub, MmuNotifierRange nrange) {
        MmStruct mm = nrange.mm();
        RefHolder me = RefHandle.current(mm.kernel());
        Hmm2019 h = enter(sub, mm, me, "hmm_invalidate_range_start");
        if (h == null) {
            return 0;
        }
        Kernel k = mm.kernel();
        boolean patched = h.config().has(P12);
        boolean blockable = nrange.blockable();
        HmmUpdate update = new HmmUpdate(nrange.start(), nrange.end(), blockable);
        int ret = 0;
        boolean raised = false;
        boolean syncFailed = false;
        if (blockable) {
            h.rangesLock();
        } else if (!h.rangesTrylock()) {
            leave(h, me);
            return -Errno.EAGAIN;
        }
        h.addNotifiers(1);
        raised = true;
        for (HmmRange2019 r : h.ranges()) {
            if (!(update.end() < r.start() || update.start() >= r.end())) {
                r.setValidLocked(false);
            }
        }
        h.rangesUnlock();
        RwSemaphore sem = h.mirrorsSem();
        boolean locked = blockable ? downRead(sem) : sem.downReadTrylock();
        if (!locked) {
            ret = -Errno.EAGAIN;
            if (!patched) {
                k.mark(Hmm2019.TRYLOCK_LEAK);
                k.report(new Failure.InvariantViolation(Hmm2019Rules.NOTIFIERS_BALANCED, "hmm_invalidate_range_start failed "
                        + "the mirrors_sem trylock and returns -EAGAIN with " + h.name() + "->notifiers still raised ("
                        + h.notifiersPeek() + "); the core calls no end after a failed start, so its ranges stay invalid",
                        k.site()));
            }
        } else {
            try {
                for (HmmMirror m : h.mirrors()) {
                    int rc = m.callSync(update);
                    if (rc == 0) {
                        continue;
                    }
                    syncFailed = true;
                    if (patched) {
                        if (blockable || rc != -Errno.EAGAIN) {
                            k.report(new Failure.InvariantViolation(Hmm2019Rules.SYNC_FAILS_ONLY_NONBLOCK,
                                    m.name() + " returned " + rc + " for " + update, k.site()));
                            continue;
                        }
                        ret = -Errno.EAGAIN;
                        break;
                    }
                    if (!blockable && rc == -Errno.EAGAIN) {
                        break;
                    }
                }
            } finally {
                sem.upRead();
            }
        }
        if (patched && ret != 0 && raised) {
            k.mark(Hmm2019.START_UNWOUND);
            notifiersDecrement(h);
        }
        if (ret == 0 && syncFailed) {
            k.report(new Failure.InvariantViolation(Hmm2019Rules.START_ZERO_ALL_SYNCED,
                    "hmm_invalidate_range_start of [" + Long.toHexString(update.start()) + ", "
                            + Long.toHexString(update.end()) + ") returns 0 although a mirror's sync failed "
                            + "(the -EAGAIN went to a shadowing variable)", k.site()));
        }
        leave(h, me);
        return ret;
    }

    private static boolean downRead(RwSemaphore sem) {
        sem.downRead();
        return true;
    }

    @Override
    public void invalidateRangeEnd(MmuNotifier sub, MmuNotifierRange nrange) {
        MmStruct mm = nrange.mm();
        RefHolder me = RefHandle.current(mm.kernel());
        Hmm2019 h = enter(sub, mm, me, "hmm_invalidate_range_end");
        if (h == null) {
            return;
        }
        notifiersDecrement(h);
        leave(h, me);
    }

    /**
     * {@code notifiers_decrement}: under the ranges lock, lowers {@code hmm->notifiers}; at 0
     * marks every range valid (also ranges registered during the invalidation) and wakes the
     * waiters. Below 0 is a broken pairing (I-H5), reported.
     */
    static void notifiersDecrement(Hmm2019 h) {
        h.rangesLock();
        try {
            long n = h.addNotifiers(-1);
            if (n < 0) {
                Kernel k = h.kernel();
                k.report(new Failure.InvariantViolation(Hmm2019Rules.NOTIFIERS_BALANCED,
                        h.name() + "->notifiers went to " + n, k.site()));
            } else if (n == 0) {
                for (HmmRange2019 r : h.ranges()) {
                    r.setValidLocked(true);
                }
                h.wq().wakeUpAll();
            }
        } finally {
            h.rangesUnlock();
        }
    }

    // ---- v5.4 get/put ----

    @Override
    public ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
        return Hmm2019.allocNotifier(mm);
    }

    @Override
    public void freeNotifier(MmuNotifier sub) {
        ((Hmm2019) sub.container()).freeNotifier();
    }
}
