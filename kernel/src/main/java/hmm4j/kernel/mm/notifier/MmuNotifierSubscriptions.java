package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.FailSlab;
import hmm4j.kernel.mm.Gfp;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifierOps.Op;
import hmm4j.kernel.sched.Signal;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.LockMap;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.SpinLock;
import hmm4j.sim.sync.SrcuStruct;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * {@code struct mmu_notifier_subscriptions}: one per mm, allocated on first registration,
 * freed only by {@code __mmdrop} (kernel/fork.c).
 *
 * <p>Overview: holds the classic subscription list (walked under the global SRCU domain,
 * edited under {@link #lock}), the {@code has_itree} flag and the interval-notifier state
 * ({@link MnItree}). The core of {@code __mmu_notifier_register},
 * {@code __mmu_notifier_invalidate_range_start/end} and {@code __mmu_notifier_release} is
 * here, in the order of mm/mmu_notifier.c: interval subscriptions are invalidated
 * before the classic list and their bookkeeping is ended before the classic ends.
 *
 * <p>Locking: list edits, {@code users} counts and all interval state under {@link #lock}
 * (a spinlock); readers walk the list inside an SRCU read section of the kernel-wide
 * domain ({@link #srcu}); registration serialises with every start/end section through
 * the mmap write lock plus {@code mm_take_all_locks}, and reports a registration that
 * finds a section in flight on its mm (rule notifier.no-register-in-section).
 *
 * <p>Differences from the kernel: the RCU hlist is a copy-on-write list, which gives
 * readers the same "whole list as of some moment" view.
 */
public final class MmuNotifierSubscriptions {
    /** Coverage mark: a classic invalidate_range_start of a non-blockable range failed with -EAGAIN and the ends were called. */
    public static final Mark START_NONBLOCK_EAGAIN = Mark.of("mn.start.nonblock-eagain",
            "A classic invalidate_range_start of a non-blockable range failed with -EAGAIN and the ends were called");

    /**
     * The scheduling point between finding a subscription on the RCU list and calling it:
     * the window in which an unlink-and-free without a grace period bites (S3a).
     */
    private static final hmm4j.sim.Op.Kind LIST_WALK = new hmm4j.sim.Op.Kind("mmu notifier list walk",
            hmm4j.sim.Op.Access.READ);

    private final MmStruct mm;
    private final SpinLock lock;
    private final List<MmuNotifier> list = new CopyOnWriteArrayList<>();
    private final MnItree itree;
    private volatile boolean hasItree;
    /** {@link #LIST_WALK} on this mm's list (the name {@code Op} here is the callbacks' enum). */
    private final hmm4j.sim.Op listWalkOp;

    /** The {@link FailSlab} site of the subscriptions object's {@code kzalloc} in {@code __mmu_notifier_register}. */
    public static final String SUBSCRIPTIONS_CACHE = "mmu_notifier_subscriptions";
    /** Coverage mark: mm_take_all_locks found a signal pending and the registration failed with -EINTR. */
    public static final Mark TAKE_ALL_LOCKS_EINTR = Mark.of("mn.register.eintr",
            "mm_take_all_locks found a signal pending and __mmu_notifier_register failed with -EINTR");

    /** Kernel-wide notifier state: the SRCU domain, the all-locks mutex, the lockdep map. */
    private static final class Globals {
        final SrcuStruct srcu;
        final Mutex allLocks;
        final LockMap startMap;
        final Map<MmStruct, int[]> sectionsInFlight = new IdentityHashMap<>();

        Globals(Kernel k) {
            srcu = new SrcuStruct(k, "mmu_notifier_srcu");
            allLocks = new Mutex(k, "mm_all_locks_mutex");
            startMap = new LockMap(k, "mmu_notifier_invalidate_range_start");
        }
    }

    MmuNotifierSubscriptions(MmStruct mm) {
        this.mm = mm;
        this.lock = new SpinLock(mm.kernel(), "subscriptions->lock", mm.name() + "->notifier_subscriptions->lock");
        this.itree = new MnItree(mm, lock);
        this.listWalkOp = new hmm4j.sim.Op(LIST_WALK,
                mm.kernel().newTarget(mm.name() + "->notifier_subscriptions->list"), "mmu notifier list walk");
    }

    /** The kernel's notifier globals; the lookup allocates nothing once they exist (hot path). */
    private static Globals globals(Kernel k) {
        Globals g = k.componentOrNull(Globals.class);
        return g != null ? g : k.component(Globals.class, () -> new Globals(k));
    }

    /** The global notifier SRCU domain ({@code srcu}) of this kernel. */
    public static SrcuStruct srcu(Kernel k) {
        return globals(k).srcu;
    }

    /** The lockdep map {@code __mmu_notifier_invalidate_range_start_map}. */
    public static LockMap lockMap(Kernel k) {
        return globals(k).startMap;
    }

    /** {@code subscriptions->lock}. */
    SpinLock lock() {
        return lock;
    }

    /** The interval-notifier state of this mm. */
    MnItree itree() {
        return itree;
    }

    /** {@code subscriptions->has_itree}: interval mode has been enabled (never cleared). */
    public boolean hasItree() {
        return hasItree;
    }

    /** The global {@code invalidate_seq} of the interval state (for tests and reports). */
    public long invalidateSeq() {
        return itree.seqPeek();
    }

    /** {@code active_invalidate_ranges} (for tests and reports). */
    public long activeInvalidateRanges() {
        return itree.activePeek();
    }

    /** The classic subscriptions, in call order (most recent registration first). */
    public List<MmuNotifier> subscriptions() {
        return List.copyOf(list);
    }

    // ---- registration ----

    /**
     * {@code mm_take_all_locks}: with the mmap write lock held (asserted), takes the global
     * all-locks mutex and walks every VMA (so the caller must hold an address-space pin). A
     * signal pending on the caller interrupts the walk at the first VMA: the mutex is dropped
     * and {@code -EINTR} returned, as the kernel's {@code signal_pending} check in each pass
     * does (an mm without VMAs is never interrupted).
     *
     * @return 0 with the locks held (pair with {@link #mmDropAllLocks}), or {@code -EINTR}
     *         with nothing held
     */
    static int mmTakeAllLocks(MmStruct mm) {
        mm.mmapAssertWriteLocked();
        Kernel k = mm.kernel();
        globals(k).allLocks.lock();
        long vmas = mm.vmas("mm_take_all_locks").count();
        Task self = k.current();
        if (vmas > 0 && self != null && Signal.pending(self) != 0) {
            k.mark(TAKE_ALL_LOCKS_EINTR);
            mmDropAllLocks(mm);
            return -Errno.EINTR;
        }
        return 0;
    }

    /** {@code mm_drop_all_locks}. */
    static void mmDropAllLocks(MmStruct mm) {
        globals(mm.kernel()).allLocks.unlock();
    }

    /**
     * {@code __mmu_notifier_register}: the caller holds the mmap lock for write (asserted).
     * {@code sub == null} enables interval mode ({@code has_itree}). Returns 0,
     * {@code -EINVAL} (a subscription with both {@code arch_invalidate_secondary_tlbs} and
     * start/end), {@code -ENOMEM} (the first registration on the mm could not allocate the
     * subscriptions object: {@link FailSlab} site {@value #SUBSCRIPTIONS_CACHE}) or
     * {@code -EINTR} ({@code mm_take_all_locks} interrupted by a pending signal); on an error
     * nothing is registered and the mm is as before.
     */
    static int register(MmuNotifier sub, MmStruct mm) {
        Kernel k = mm.kernel();
        mm.mmapAssertWriteLocked();
        if (sub != null) {
            k.note("mmu_notifier_register");
        }
        mm.assertAddressSpacePinned(sub == null ? "mmu_notifier_register(interval mode)"
                : "mmu_notifier_register(" + sub.name() + ")");
        if (mm.mmUsersPeek() <= 0) {
            k.report(new Failure.InvariantViolation(KernelRules.REGISTER_ON_LIVE_MM,
                    "BUG_ON(mm_users <= 0): registering " + (sub == null ? "interval mode" : sub.name()) + " on " + mm.name()
                            + " whose address space is gone (" + mm.describeState() + ")", k.site()));
        }
        if (sub != null && MmuNotifierOps.has(sub.ops(), Op.ARCH_INVALIDATE_SECONDARY_TLBS)
                && (MmuNotifierOps.has(sub.ops(), Op.INVALIDATE_RANGE_START)
                        || MmuNotifierOps.has(sub.ops(), Op.INVALIDATE_RANGE_END))) {
            return -Errno.EINVAL;
        }
        // Step 3: invalidate_range_start may be entered from reclaim (fs_reclaim -> start map);
        // fs_reclaim_acquire primes the same pair itself, registration spells it out again.
        Gfp.fsReclaimAcquire(k, Gfp.GFP_KERNEL);
        lockMap(k).acquire();
        lockMap(k).release();
        Gfp.fsReclaimRelease(k, Gfp.GFP_KERNEL);
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null) {
            if (FailSlab.shouldFail(k, SUBSCRIPTIONS_CACHE)) {
                return -Errno.ENOMEM;
            }
            subs = new MmuNotifierSubscriptions(mm);
        }
        int ret = mmTakeAllLocks(mm);
        if (ret != 0) {
            // The new subscriptions object, if any, was never published: dropped (kfree).
            return ret;
        }
        try {
            int inFlight = sectionsInFlight(mm);
            if (inFlight != 0) {
                k.report(new Failure.InvariantViolation(KernelRules.NO_REGISTER_IN_SECTION,
                        inFlight + " invalidate_range_start/end section(s) in flight on " + mm.name()
                                + " while registering " + (sub == null ? "interval mode" : sub.name()), k.site()));
            }
            if (mm.notifierSubscriptions() == null) {
                mm.setNotifierSubscriptions(subs);
            }
            if (sub != null) {
                mm.mmgrabAs(sub.mmRef());
                sub.attach(mm);
                subs.link(sub);
            } else {
                subs.hasItree = true;
            }
        } finally {
            mmDropAllLocks(mm);
        }
        return 0;
    }

    void link(MmuNotifier sub) {
        lock.lock();
        try {
            list.add(0, sub);
            sub.setLinked(true);
        } finally {
            lock.unlock();
        }
    }

    void unlink(MmuNotifier sub) {
        lock.lock();
        try {
            unlinkLocked(sub);
        } finally {
            lock.unlock();
        }
    }

    /** {@code hlist_del_init_rcu} under the lock: tolerant of an already unlinked subscription. */
    void unlinkLocked(MmuNotifier sub) {
        list.remove(sub);
        sub.setLinked(false);
    }

    /** The linked subscription whose ops are {@code ops} (identity), under the lock; or null. */
    MmuNotifier findByOps(MmuNotifierOps ops) {
        for (MmuNotifier sub : list) {
            if (sub.ops() == ops) {
                return sub;
            }
        }
        return null;
    }

    // ---- invalidation ----

    private static int sectionsInFlight(MmStruct mm) {
        Globals g = globals(mm.kernel());
        synchronized (g.sectionsInFlight) {
            int[] n = g.sectionsInFlight.get(mm);
            return n == null ? 0 : n[0];
        }
    }

    /** Counts the start/end sections in flight on {@code mm}, for rule notifier.no-register-in-section. */
    static void sectionDelta(MmStruct mm, int delta) {
        Globals g = globals(mm.kernel());
        synchronized (g.sectionsInFlight) {
            int[] n = g.sectionsInFlight.computeIfAbsent(mm, x -> new int[1]);
            n[0] += delta;
            if (n[0] == 0) {
                g.sectionsInFlight.remove(mm);
            }
        }
    }

    /**
     * {@code __mmu_notifier_invalidate_range_start}: interval subscriptions first (an
     * {@code -EAGAIN} from them is returned at once, the interval side having undone
     * itself), then every classic start, all of them even after a failure; if one failed,
     * every classic end is called before returning ({@code mn_hlist_invalidate_range_start};
     * the interval side is then not unwound, as in the kernel).
     */
    int invalidateRangeStart(MmuNotifierRange range) {
        if (hasItree) {
            int ret = itree.invalidate(range);
            if (ret != 0) {
                return ret;
            }
        }
        if (list.isEmpty()) {
            return 0;
        }
        Kernel k = mm.kernel();
        int[] err = {0};
        underSrcu(() -> {
            for (MmuNotifier sub : list) {
                if (!MmuNotifierOps.has(sub.ops(), Op.INVALIDATE_RANGE_START)) {
                    continue;
                }
                k.point(listWalkOp);
                int ret = sub.callInvalidateRangeStart(range);
                if (ret != 0) {
                    if (range.blockable() || ret != -Errno.EAGAIN) {
                        k.report(new Failure.InvariantViolation(KernelRules.ONLY_NONBLOCK_START_FAILS,
                                sub.name() + " returned " + ret + " for " + range, k.site()));
                    }
                    if (MmuNotifierOps.has(sub.ops(), Op.INVALIDATE_RANGE_END)) {
                        k.report(new Failure.InvariantViolation(KernelRules.FALLIBLE_START_NO_END,
                                sub.name() + " failed invalidate_range_start but implements invalidate_range_end",
                                k.site()));
                    }
                    err[0] = ret;
                }
            }
            if (err[0] != 0) {
                k.mark(START_NONBLOCK_EAGAIN);
                for (MmuNotifier sub : list) {
                    if (MmuNotifierOps.has(sub.ops(), Op.INVALIDATE_RANGE_END)) {
                        sub.callInvalidateRangeEnd(range);
                    }
                }
            }
        });
        return err[0];
    }

    /** {@code __mmu_notifier_invalidate_range_end}: interval bookkeeping, then the classic ends. */
    void invalidateRangeEnd(MmuNotifierRange range) {
        if (hasItree) {
            itree.invEnd();
        }
        forEachUnderSrcu(Op.INVALIDATE_RANGE_END, sub -> sub.callInvalidateRangeEnd(range));
    }

    /** Calls {@code op} on every subscription implementing {@code which}, inside one SRCU read section. */
    void forEachUnderSrcu(Op which, Consumer<MmuNotifier> op) {
        if (list.isEmpty()) {
            return;
        }
        underSrcu(() -> {
            for (MmuNotifier sub : list) {
                if (MmuNotifierOps.has(sub.ops(), which)) {
                    mm.kernel().point(listWalkOp);
                    op.accept(sub);
                }
            }
        });
    }

    private void underSrcu(Runnable body) {
        SrcuStruct srcu = srcu(mm.kernel());
        int idx = srcu.readLock();
        try {
            body.run();
        } finally {
            srcu.readUnlock(idx);
        }
    }

    // ---- accessed-bit and secondary-TLB entry points ----

    /** {@code mmu_notifier_clear_flush_young}: the OR of every subscriber's result; 0 without notifiers. */
    public static int clearFlushYoung(MmStruct mm, long start, long end) {
        return orOfYoung(mm, Op.CLEAR_FLUSH_YOUNG, sub -> sub.callYoung(Op.CLEAR_FLUSH_YOUNG, mm, start, end));
    }

    /** {@code mmu_notifier_clear_young}: the OR of every subscriber's result; 0 without notifiers. */
    public static int clearYoung(MmStruct mm, long start, long end) {
        return orOfYoung(mm, Op.CLEAR_YOUNG, sub -> sub.callYoung(Op.CLEAR_YOUNG, mm, start, end));
    }

    /** {@code mmu_notifier_test_young}: the first non-zero result, or 0. */
    public static int testYoung(MmStruct mm, long address) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null || subs.list.isEmpty()) {
            return 0;
        }
        int[] young = {0};
        subs.underSrcu(() -> {
            for (MmuNotifier sub : subs.list) {
                if (MmuNotifierOps.has(sub.ops(), Op.TEST_YOUNG)) {
                    young[0] = sub.callYoung(Op.TEST_YOUNG, mm, address, address);
                    if (young[0] != 0) {
                        return;
                    }
                }
            }
        });
        return young[0];
    }

    /**
     * {@code mmu_notifier_arch_invalidate_secondary_tlbs}: called by TLB-flush code under the
     * page-table lock; the callbacks run in a non-block section.
     */
    public static void archInvalidateSecondaryTlbs(MmStruct mm, long start, long end) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs != null) {
            subs.forEachUnderSrcu(Op.ARCH_INVALIDATE_SECONDARY_TLBS,
                    sub -> sub.callArchInvalidateSecondaryTlbs(mm, start, end));
        }
    }

    private static int orOfYoung(MmStruct mm, Op op, java.util.function.ToIntFunction<MmuNotifier> call) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null) {
            return 0;
        }
        int[] young = {0};
        subs.forEachUnderSrcu(op, sub -> young[0] |= call.applyAsInt(sub));
        return young[0];
    }

    // ---- release and destroy ----

    /**
     * {@code mmu_notifier_release} (exit_mmap step 1): the interval release (a RELEASE
     * invalidation of the whole space; the subscriptions stay in the tree), then every
     * classic {@code ->release} inside the SRCU read section, every classic subscription
     * unlinked, and a grace period so that a release run concurrently by {@code unregister}
     * has finished before anything is unmapped. Nothing if the mm has no subscriptions.
     */
    public static void mmuNotifierRelease(MmStruct mm) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null) {
            return;
        }
        if (subs.hasItree) {
            subs.itree.release();
        }
        if (subs.list.isEmpty()) {
            return;
        }
        subs.underSrcu(() -> {
            for (MmuNotifier sub : subs.list) {
                mm.kernel().point(subs.listWalkOp);
                mm.kernel().mark(MmuNotifier.RELEASE_FROM_EXIT);
                sub.callRelease(mm);
            }
            subs.lock.lock();
            try {
                for (MmuNotifier sub : subs.list) {
                    sub.setLinked(false);
                }
                subs.list.clear();
            } finally {
                subs.lock.unlock();
            }
        });
        srcu(mm.kernel()).synchronizeSrcu();
    }

    /**
     * {@code mmu_notifier_subscriptions_destroy} (from {@code __mmdrop}): the classic list
     * must be empty (a BUG otherwise, reported as an invariant violation).
     */
    public static void destroy(MmStruct mm) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs != null && !subs.list.isEmpty()) {
            mm.kernel().report(new Failure.InvariantViolation(KernelRules.DESTROY_EMPTY,
                    "BUG_ON(!hlist_empty): " + mm.name() + " freed with subscriptions still registered: " + subs.list, mm.kernel().site()));
        }
        mm.setNotifierSubscriptions(null);
    }
}
