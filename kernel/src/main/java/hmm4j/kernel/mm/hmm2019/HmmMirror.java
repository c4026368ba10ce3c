package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.GET;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P07;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P08;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P09;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P11;

import hmm4j.check.lifetime.KObject;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.RwSemaphore;

/**
 * {@code struct hmm_mirror}: one driver context mirroring one mm. The driver allocates it
 * (it is a tracked object: freeing it while {@code hmm_release} can still call it is a
 * use-after-free, rule hmm2019.mirror-live) and must not free it before
 * {@link #unregister} returns.
 *
 * <p>Overview: {@link #register} links the mirror on the mm's {@code struct hmm}, created if
 * needed, and holds one kref on it (v5.4: one {@code users} count of its notifier);
 * {@link #unregister} unlinks it and drops that reference. v5.2 guards against a second
 * unregister with an unlocked test of {@code mirror->hmm} (racy, removed by P09); v5.3
 * poisons the list entry, so a second unregister is reported (rule
 * hmm2019.mirror-unregister-once).
 *
 * <p>Locking: the caller of {@link #register} holds the mmap lock for write (v5.3 asserts
 * it, P08); {@code mirrors_sem} (write) guards the link. Both calls may sleep.
 */
public final class HmmMirror extends KObject {
    /** Where the mirror's list entry is. */
    enum Link { NEVER, LINKED, SELF_LINKED, POISONED }

    private static final Op.Kind READ_HMM = new Op.Kind("READ_ONCE", Op.Access.READ);

    private final HmmMirrorOps ops;
    private final RefHandle handle;
    private final Op readHmmOp;
    private final Op releaseWindow;
    private volatile Hmm2019 hmm;
    private volatile Link link = Link.NEVER;

    /**
     * @param kernel the kernel
     * @param name   the mirror's name in reports, e.g. {@code "nouveau-svmm#1"}
     * @param ops    the driver's callbacks (null is the {@code -EINVAL} of register)
     */
    public HmmMirror(Kernel kernel, String name, HmmMirrorOps ops) {
        super(kernel, name);
        this.ops = ops;
        this.handle = new RefHandle(name);
        Op.Target t = kernel.newTarget(name + "->hmm");
        this.readHmmOp = Op.of(READ_HMM, t);
        this.releaseWindow = Op.of(Hmm2019Windows.RELEASE_CALL, target());
    }

    /** {@code mirror->hmm}: null before register (and in v5.2 after unregister). */
    public Hmm2019 hmm() {
        checkAccess("mirror->hmm");
        return hmm;
    }

    /** The holder under which this mirror keeps its kref. */
    public RefHandle handle() {
        return handle;
    }

    /** True while on {@code hmm->mirrors}. */
    public boolean isLinked() {
        return link == Link.LINKED;
    }

    void setSelfLinked() {
        link = Link.SELF_LINKED;
    }

    /**
     * {@code hmm_mirror_register}: the caller holds {@code mm}'s mmap lock for write (P08
     * asserts it; v5.2 notices only when a new hmm is registered). May sleep.
     *
     * @return 0; {@code -EINVAL} for a null mm or ops; {@code -ENOMEM} if no hmm could be had
     *         (in v5.2 also the false failure while the previous hmm is freed)
     */
    public int register(MmStruct mm) {
        if (mm == null || ops == null) {
            return -Errno.EINVAL;
        }
        checkAccess("hmm_mirror_register");
        Kernel k = kernel();
        k.syncObserver().mightSleep(k.current(), "hmm_mirror_register");
        k.note("hmm_mirror_register");
        Hmm2019Config config = MmHmm.of(mm).config();
        if (config.has(P08)) {
            mm.mmapLock().assertHeldWrite("hmm_mirror_register: lockdep_assert_held_write(mmap_sem)");
        }
        if (link == Link.LINKED) {
            k.report(new Failure.InvariantViolation(Hmm2019Rules.MIRROR_UNREGISTER_ONCE,
                    name() + " registered again while registered on " + hmm, k.site()));
            return -Errno.EINVAL;
        }
        Hmm2019 h;
        if (config.has(GET)) {
            ErrPtr<MmuNotifier> got = MmuNotifier.mmuNotifierGetLocked(Hmm2019.SHARED_OPS, mm);
            if (got.isErr()) {
                return got.ptrErr();
            }
            h = (Hmm2019) got.get().container();
        } else {
            h = Hmm2019.getOrCreate(mm, handle);
            if (h == null) {
                return -Errno.ENOMEM;
            }
        }
        hmm = h;
        RwSemaphore sem = h.mirrorsSem();
        sem.downWrite();
        h.mirrors().add(this);
        link = Link.LINKED;
        sem.upWrite();
        return 0;
    }

    /**
     * {@code hmm_mirror_unregister}: unlinks the mirror and drops its reference on the hmm.
     * Exactly once per successful register (I-H11). v5.2: returns at once if
     * {@code mirror->hmm} reads NULL (the racy guard, P09); v5.3: a second call is a
     * {@code list_del} on a poisoned entry, reported; a call from the mirror's own
     * {@code ->release} is reported before it would deadlock (I-H10). May sleep.
     */
    public void unregister() {
        checkAccess("hmm_mirror_unregister");
        Kernel k = kernel();
        k.syncObserver().mightSleep(k.current(), "hmm_mirror_unregister");
        k.note("hmm_mirror_unregister");
        if (link == Link.NEVER) {
            k.report(new Failure.InvariantViolation(Hmm2019Rules.MIRROR_UNREGISTER_ONCE,
                    "hmm_mirror_unregister of " + name() + ", which was never registered (mirror->hmm is NULL)", k.site()));
            return;
        }
        k.point(readHmmOp);
        Hmm2019 h = hmm;
        if (h == null) {
            return;
        }
        Hmm2019Config config = h.config();
        if (config.has(P09) && link == Link.POISONED) {
            k.report(new Failure.InvariantViolation(Hmm2019Rules.MIRROR_UNREGISTER_ONCE,
                    "double hmm_mirror_unregister of " + name() + " (list_del on a deleted entry)", k.site()));
            return;
        }
        if (config.has(P11) && h.releasingTask() == k.current() && k.current() != null) {
            k.report(new Failure.InvariantViolation(Hmm2019Rules.RELEASE_NO_MIRRORS_SEM,
                    "hmm_mirror_unregister(" + name() + ") called from a mirror release op, which holds "
                            + h.name() + "->mirrors_sem for read", k.site()));
        }
        RwSemaphore sem = h.mirrorsSem();
        sem.downWrite();
        if (config.has(P09)) {
            if (link == Link.POISONED) {
                sem.upWrite();
                k.report(new Failure.InvariantViolation(Hmm2019Rules.MIRROR_UNREGISTER_ONCE,
                        "double hmm_mirror_unregister of " + name() + " (list_del on a deleted entry)", k.site()));
                return;
            }
            h.mirrors().remove(this);
            link = Link.POISONED;
        } else {
            h.mirrors().remove(this);
            link = Link.SELF_LINKED;
            hmm = null;
        }
        sem.upWrite();
        if (config.has(GET)) {
            h.notifier().mmuNotifierPut();
        } else {
            h.put(handle);
        }
    }

    /**
     * {@code hmm_mirror_mm_is_alive} (v5.2 only; P07 deleted it): an unlocked hint, false if
     * the mirror has no hmm or the hmm is dead. It guarantees nothing: the address space may
     * die right after it returned true.
     *
     * @throws IllegalStateException in a configuration with P07, which has no such helper
     */
    public boolean mmIsAlive() {
        Hmm2019 h = hmm();
        if (h != null && h.config().has(P07)) {
            throw new IllegalStateException("hmm_mirror_mm_is_alive was removed by P07");
        }
        return h != null && !h.readDead();
    }

    /**
     * {@code hmm_mirror_mm_down_read} (January 2019, v1 10/10; never merged): {@code -EINVAL}
     * if the mirror has no hmm or the hmm is dead, else {@code down_read(mmap_sem)} and 0. The
     * liveness test is the same unlocked hint as {@link #mmIsAlive}.
     */
    public int mmDownRead() {
        Hmm2019 h = hmm();
        if (h == null || h.readDead()) {
            return -Errno.EINVAL;
        }
        h.mm().mmapReadLock();
        return 0;
    }

    /** {@code hmm_mirror_mm_up_read}: {@code up_read(mmap_sem)} with no check at all. */
    public void mmUpRead() {
        hmm().mm().mmapReadUnlock();
    }

    /** Calls {@code ->sync_cpu_device_pagetables} (I-H8: the mirror is still allocated). */
    int callSync(HmmUpdate update) {
        checkLive("->sync_cpu_device_pagetables");
        return ops.syncCpuDevicePagetables(this, update);
    }

    /** True if the ops have a {@code ->release}. */
    boolean hasRelease() {
        return HmmMirrorOps.hasRelease(ops);
    }

    /** The v5.2 window between {@code up_write(mirrors_sem)} and the {@code ->release} call. */
    void releaseWindow() {
        kernel().point(releaseWindow);
    }

    /** Calls {@code ->release} (I-H8: the mirror is still allocated). */
    void callRelease() {
        checkLive("->release");
        ops.release(this);
    }

    private void checkLive(String access) {
        if (isFreed()) {
            kernel().report(new Failure.UseAfterFree(name(), access, allocSite(), freeSite(), kernel().site(),
                    Hmm2019Rules.MIRROR_LIVE));
        }
    }
}
