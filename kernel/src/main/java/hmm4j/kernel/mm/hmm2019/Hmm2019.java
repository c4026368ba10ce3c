package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.GET;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P01;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P03;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P04;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P12;

import hmm4j.check.lifetime.KObject;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.check.lifetime.RefLedger;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierSubscriptions;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.Op;
import hmm4j.sim.RefHolder;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.RefcountT;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import hmm4j.sim.sync.WaitQueueHead;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct hmm} of v5.2 to v5.4 (mm/hmm.c): one per mm, shared by every mirror of it.
 *
 * <p>Overview: a kref counts the mirrors and ranges on it (each under its own holder in a
 * reference ledger, so a stray put names its holder) plus the temporary references the
 * notifier callbacks take; the embedded {@code mmu_notifier} forwards invalidations to the
 * mirrors ({@link Hmm2019Notifier}). v5.2 finds it through {@code mm->hmm} without a lock
 * ({@link #mmGetHmm}) and frees it at once; v5.3 (P01, P03, P04) reaches it with
 * {@code container_of}, pins the mm with its own {@code mmgrab} and frees it after an SRCU
 * grace period; v5.4 (GET) is an {@code mmu_notifier_get/put} subscription without a kref.
 *
 * <p>Locking: v5.2's mutex {@code hmm->lock} (v5.3's spinlock {@code ranges_lock}, P12)
 * guards {@code ranges}, {@code notifiers} and the writes of {@code range->valid};
 * {@code mirrors_sem} guards {@code mirrors}; {@code dead} (v5.2 only) is read without a lock.
 *
 * <p>Lifetime: allocated by {@link #getOrCreate} (or {@code ->alloc_notifier} in v5.4),
 * freed by the last {@link #put} ({@code hmm_free}) or {@code ->free_notifier}.
 *
 * <p>Differences from the kernel: {@code hmm->mm} is never cleared ({@code hmm_mm_destroy}
 * could only see a kref-0 hmm), so the v5.2 {@code hmm->mm == NULL} tests are
 * always false.
 */
public final class Hmm2019 extends KObject {
    /** Coverage mark: v5.2 get_or_create found a dying hmm in mm->hmm and failed. */
    public static final Mark FALSE_FAILURE = Mark.of("hmm2019.get-or-create.false-failure",
            "v5.2 hmm_get_or_create found a dying struct hmm in mm->hmm and gave up");
    /** Coverage mark: v5.3 get_or_create replaced a dying hmm in mm->hmm. */
    public static final Mark REPLACED_DYING = Mark.of("hmm2019.get-or-create.replaced-dying",
            "v5.3 hmm_get_or_create found a kref-0 struct hmm in mm->hmm and published a new one over it");
    /** Coverage mark: a v5.3 callback found the hmm's kref at 0 and returned. */
    public static final Mark CALLBACK_KREF_ZERO = Mark.of("hmm2019.callback.kref-zero",
            "A v5.3 notifier callback found the struct hmm's kref at 0 and returned without touching it");

    /** Coverage mark: v5.2's start failed the mirrors_sem trylock with notifiers raised. */
    public static final Mark TRYLOCK_LEAK = Mark.of("hmm2019.start.trylock-leak",
            "v5.2 hmm_invalidate_range_start failed its mirrors_sem trylock after raising hmm->notifiers");
    /** Coverage mark: v5.3's start unwound hmm->notifiers after a failure. */
    public static final Mark START_UNWOUND = Mark.of("hmm2019.start.unwound",
            "v5.3 hmm_invalidate_range_start failed and unwound hmm->notifiers (notifiers_decrement)");

    /** Coverage mark: hmm_free deferred the kfree to an SRCU callback (P01). */
    public static final Mark FREE_DEFERRED = Mark.of("hmm2019.free.srcu-deferred",
            "hmm_free queued the kfree of struct hmm behind an SRCU grace period (v5.3)");
    /** Coverage mark: hmm_free freed struct hmm at once (v5.2). */
    public static final Mark FREE_IMMEDIATE = Mark.of("hmm2019.free.immediate",
            "hmm_free freed struct hmm at once, without a grace period (v5.2)");
    /** Coverage mark: a range took mm_users for its lifetime (P07). */
    public static final Mark RANGE_MMGET = Mark.of("hmm2019.range.mmget",
            "hmm_range_register took mmget_not_zero for the range's lifetime (v5.3)");
    /** Coverage mark: hmm_release called a mirror's release op. */
    public static final Mark RELEASE_CALLED = Mark.of("hmm2019.release.called",
            "hmm_release called a mirror's ->release");

    /** The shared ops table of v5.4's get/put subscriptions (its identity is the get key). */
    static final Hmm2019Notifier SHARED_OPS = new Hmm2019Notifier(null);
    private static final Op.Kind READ_DEAD = new Op.Kind("READ_ONCE", Op.Access.READ);

    private final MmStruct mm;
    private final Hmm2019Config config;
    private final RefcountT kref;
    private final RefLedger krefs;
    private final Mutex lock;
    private final SpinLock rangesLock;
    private final List<HmmRange2019> ranges = new ArrayList<>();
    private final List<HmmMirror> mirrors = new ArrayList<>();
    private final RwSemaphore mirrorsSem;
    private final WaitQueueHead wq;
    private final MmuNotifier notifier;
    private final RefHandle mmRef;
    private final Op readDeadOp;
    private final Op mmGetHmmWindow;
    private final Op freeWindow;
    private long notifiers;
    private volatile boolean dead;
    private volatile Task releasingTask;

    private Hmm2019(MmStruct mm, Hmm2019Config config) {
        super(mm.kernel(), "hmm@" + mm.name());
        Kernel k = mm.kernel();
        this.mm = mm;
        this.config = config;
        this.kref = new RefcountT(k, name() + "->kref", 1);
        this.krefs = new RefLedger(k, name() + " kref");
        boolean spin = config.has(P12);
        this.lock = spin ? null : new Mutex(k, "hmm->lock", name() + "->lock");
        this.rangesLock = spin ? new SpinLock(k, "hmm->ranges_lock", name() + "->ranges_lock") : null;
        this.mirrorsSem = new RwSemaphore(k, "hmm->mirrors_sem", name() + "->mirrors_sem");
        this.wq = new WaitQueueHead(k, name() + "->wq");
        this.notifier = config.has(GET) ? new MmuNotifier(this, name() + "->mmu_notifier", SHARED_OPS)
                : new MmuNotifier(name() + "->mmu_notifier", new Hmm2019Notifier(this));
        this.mmRef = new RefHandle(name());
        this.readDeadOp = Op.of(READ_DEAD, k.newTarget(name() + "->dead"));
        this.mmGetHmmWindow = Op.of(Hmm2019Windows.MM_GET_HMM, target());
        this.freeWindow = Op.of(Hmm2019Windows.HMM_FREE, target());
        Hmm2019Quiescence.track(this);
        if (!config.has(GET)) {
            krefs.checkBalancedAtQuiescence();
        }
    }

    // ---- accessors ----

    /** {@code hmm->mm}: checked for I-H2 (the mm_struct is still allocated). */
    public MmStruct mm() {
        checkAccess("hmm->mm");
        if (mm.isFreed()) {
            kernel().report(new Failure.UseAfterFree(mm.name(), "hmm->mm of " + name(), mm.allocSite(), mm.freeSite(),
                    kernel().site(), Hmm2019Rules.HMM_PINS_MM));
        }
        return mm;
    }

    /** The configuration this hmm was created under. */
    public Hmm2019Config config() {
        return config;
    }

    /** The embedded notifier subscription. */
    public MmuNotifier notifier() {
        return notifier;
    }

    /** {@code hmm->mirrors_sem}. */
    public RwSemaphore mirrorsSem() {
        checkAccess("hmm->mirrors_sem");
        return mirrorsSem;
    }

    /** {@code hmm->wq}. */
    WaitQueueHead wq() {
        checkAccess("hmm->wq");
        return wq;
    }

    /** {@code hmm->mirrors}: the caller holds {@code mirrors_sem} (asserted). */
    List<HmmMirror> mirrors() {
        mirrorsSem().assertHeld("lockdep_assert_held(hmm->mirrors_sem)");
        return mirrors;
    }

    /** The number of mirrors, without a lock (checkers, tests). */
    public int mirrorCountPeek() {
        return mirrors.size();
    }

    /** The number of ranges, without a lock (checkers, tests, the lock-free WARN of v5.3's release). */
    public int rangeCountPeek() {
        return ranges.size();
    }

    /** {@code hmm->notifiers} without a lock (checkers, tests). */
    public long notifiersPeek() {
        return notifiers;
    }

    /** {@code hmm->kref} without a scheduling point (checkers, tests). */
    public int krefPeek() {
        return kref.peek();
    }

    /** The holders of the kref (tests, reports). */
    public RefLedger krefLedger() {
        return krefs;
    }

    /** {@code READ_ONCE(hmm->dead)} (v5.2): an unlocked read, a scheduling point. */
    boolean readDead() {
        kernel().point(readDeadOp);
        checkAccess("hmm->dead");
        return dead;
    }

    /** {@code hmm->dead} without a scheduling point (wait conditions, tests). */
    public boolean deadPeek() {
        return dead;
    }

    /** The task inside a mirror's {@code ->release} called by this hmm's release, or null. */
    Task releasingTask() {
        return releasingTask;
    }

    void setReleasingTask(Task t) {
        releasingTask = t;
    }

    void setDead() {
        checkAccess("hmm->dead");
        dead = true;
    }

    // ---- the ranges lock and the locked ranges list (P06: every access asserts the lock) ----

    /** Takes {@code hmm->lock} (v5.2) or {@code ranges_lock} (P12). */
    void rangesLock() {
        checkAccess("hmm->lock");
        if (rangesLock != null) {
            rangesLock.lock();
        } else {
            lock.lock();
        }
    }

    /** {@code mutex_trylock(&hmm->lock)}; with P12 the spinlock is always taken. */
    boolean rangesTrylock() {
        checkAccess("hmm->lock");
        if (rangesLock != null) {
            rangesLock.lock();
            return true;
        }
        return lock.trylock();
    }

    void rangesUnlock() {
        if (rangesLock != null) {
            rangesLock.unlock();
        } else {
            lock.unlock();
        }
    }

    /** {@code lockdep_assert_held} on the lock that guards {@code ranges}. */
    void assertRangesLocked() {
        if (rangesLock != null) {
            rangesLock.assertHeld();
        } else {
            lock.assertHeld();
        }
    }

    /** {@code hmm->ranges} for iteration; the caller holds the ranges lock (asserted, P06). */
    List<HmmRange2019> ranges() {
        checkAccess("hmm->ranges");
        assertRangesLocked();
        return ranges;
    }

    /** {@code hmm->notifiers++} or {@code --}; the caller holds the ranges lock (asserted). */
    long addNotifiers(long delta) {
        assertRangesLocked();
        notifiers += delta;
        return notifiers;
    }

    /** {@code hmm->notifiers} under the ranges lock (asserted). */
    long notifiers() {
        assertRangesLocked();
        return notifiers;
    }

    // ---- references ----

    /** {@code kref_get_unless_zero}: {@code rule} names the report if this memory is already freed. */
    boolean kgetUnlessZero(RefHolder holder, Rule rule) {
        if (isFreed()) {
            kernel().report(new Failure.UseAfterFree(name(), "kref_get_unless_zero(hmm->kref)", allocSite(), freeSite(),
                    kernel().site(), rule));
            return false;
        }
        if (!kref.incNotZero()) {
            return false;
        }
        krefs.get(holder, kernel().site());
        return true;
    }

    /** {@code kref_get}: the caller already holds a reference or the lock that makes one impossible to lose. */
    void kget(RefHolder holder) {
        checkAccess("kref_get(hmm->kref)");
        kref.inc();
        krefs.get(holder, kernel().site());
    }

    /** {@code hmm_put}: drops {@code holder}'s kref; the last one runs {@code hmm_free}. May sleep in v5.2. */
    public void put(RefHolder holder) {
        if (config.has(GET)) {
            return;
        }
        checkAccess("kref_put(hmm->kref)");
        krefs.put(holder, kernel().site());
        if (kref.decAndTest()) {
            free();
        }
    }

    // ---- mm_get_hmm, hmm_get_or_create ----

    /**
     * {@code mm_get_hmm} (v5.2): reads {@code mm->hmm} without a lock and takes a kref for
     * {@code holder} unless it is 0. The window between the read and the kref is a named
     * scheduling point; a kref read on freed memory is reported under {@code rule}.
     *
     * @return the hmm with a new kref, or null
     */
    static Hmm2019 mmGetHmm(MmStruct mm, RefHolder holder, Rule rule) {
        Hmm2019 hmm = MmHmm.of(mm).readOnce();
        if (hmm == null) {
            return null;
        }
        mm.kernel().point(hmm.mmGetHmmWindow);
        return hmm.kgetUnlessZero(holder, rule) ? hmm : null;
    }

    /**
     * {@code hmm_get_or_create}: the mm's hmm with one new kref for {@code holder}, created
     * and registered if needed. The caller must hold the mmap lock for write (v5.3 asserts
     * it, P04; v5.2 only has the notifier registration's own assertion, and only when it
     * creates). Returns null on the v5.2 false failure (a dying hmm still in {@code mm->hmm})
     * or a failed registration.
     */
    static Hmm2019 getOrCreate(MmStruct mm, RefHolder holder) {
        MmHmm slot = MmHmm.of(mm);
        Hmm2019Config config = slot.config();
        Kernel k = mm.kernel();
        if (config.has(P04)) {
            mm.mmapLock().assertHeldWrite("hmm_get_or_create: lockdep_assert_held_write(mmap_sem)");
            mm.pageTableLock().lock();
            try {
                Hmm2019 old = slot.getLocked();
                if (old != null) {
                    if (old.kgetUnlessZero(holder, Hmm2019Rules.MM_HMM_LIVE)) {
                        return old;
                    }
                    k.mark(REPLACED_DYING);
                }
            } finally {
                mm.pageTableLock().unlock();
            }
            Hmm2019 hmm = new Hmm2019(mm, config);
            if (hmm.notifier.registerLocked(mm) != 0) {
                hmm.kfree();
                return null;
            }
            mm.mmgrabAs(hmm.mmRef);
            mm.pageTableLock().lock();
            slot.setLocked(hmm);
            mm.pageTableLock().unlock();
            hmm.krefs.get(holder, hmm.allocSite());
            return hmm;
        }
        Hmm2019 found = mmGetHmm(mm, holder, Hmm2019Rules.MM_HMM_LIVE);
        if (found != null) {
            return found;
        }
        Hmm2019 hmm = new Hmm2019(mm, config);
        boolean cleanup;
        mm.pageTableLock().lock();
        try {
            cleanup = slot.getLocked() != null;
            if (!cleanup) {
                slot.setLocked(hmm);
            }
        } finally {
            mm.pageTableLock().unlock();
        }
        if (cleanup) {
            k.mark(FALSE_FAILURE);
            hmm.kref.set(0);
            hmm.kfree();
            return null;
        }
        if (hmm.notifier.registerLocked(mm) != 0) {
            mm.pageTableLock().lock();
            if (slot.getLocked() == hmm) {
                slot.setLocked(null);
            }
            mm.pageTableLock().unlock();
            hmm.kref.set(0);
            hmm.kfree();
            return null;
        }
        if (config.has(P03)) {
            mm.mmgrabAs(hmm.mmRef);
        }
        hmm.krefs.get(holder, hmm.allocSite());
        return hmm;
    }

    /** {@code ->alloc_notifier} (v5.4): a new hmm for {@code mm}. */
    static ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
        return ErrPtr.of(new Hmm2019(mm, MmHmm.of(mm).config()).notifier);
    }

    /** {@code hmm_free_notifier} (v5.4): WARNs if ranges or mirrors are left, then frees. */
    void freeNotifier() {
        if (!ranges.isEmpty() || !mirrors.isEmpty()) {
            kernel().report(new Failure.InvariantViolation(Hmm2019Rules.FREE_EMPTY, name() + " freed with "
                    + ranges.size() + " range(s) and " + mirrors.size() + " mirror(s) still on it", kernel().site()));
        }
        kfree();
    }

    /**
     * {@code hmm_free}, in the calling context of the last put. v5.2: unregister without
     * release (its {@code mmdrop} may be the mm's last), window, clear {@code mm->hmm} under
     * {@code page_table_lock} (I-H2: the mm may be gone), {@code kfree} at once. P01 defers
     * the kfree to an SRCU callback; P03 clears first and holds the mm with its own grab,
     * dropped here or (P04) in the SRCU callback.
     */
    private void free() {
        Kernel k = kernel();
        k.note("hmm_free");
        MmHmm slot = MmHmm.of(mm);
        if (config.has(P03)) {
            clearMmHmm(slot);
            notifier.unregisterNoRelease(mm);
            k.point(freeWindow);
            if (!config.has(P04)) {
                mm.mmdropAs(mmRef);
            }
        } else {
            notifier.unregisterNoRelease(mm);
            k.point(freeWindow);
            clearMmHmm(slot);
        }
        if (config.has(P01)) {
            k.mark(FREE_DEFERRED);
            boolean dropInCallback = config.has(P04);
            MmuNotifierSubscriptions.srcu(k).callSrcu(() -> {
                if (dropInCallback) {
                    mm.mmdropAs(mmRef);
                }
                kfree();
            });
        } else {
            k.mark(FREE_IMMEDIATE);
            kfree();
        }
    }

    /** Clears {@code mm->hmm} if it is this hmm; every access to the mm is checked for I-H2 first. */
    private void clearMmHmm(MmHmm slot) {
        SpinLock ptl = mm().pageTableLock();
        ptl.lock();
        try {
            mm();
            if (slot.getLocked() == this) {
                mm();
                slot.setLocked(null);
            }
        } finally {
            mm();
            ptl.unlock();
        }
    }
}
