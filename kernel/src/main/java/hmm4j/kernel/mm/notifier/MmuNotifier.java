package hmm4j.kernel.mm.notifier;

import hmm4j.check.lifetime.KObject;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifierOps.Op;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.failure.Failure;
import java.util.Objects;

/**
 * {@code struct mmu_notifier}: one classic subscription (include/linux/mmu_notifier.h).
 *
 * <p>Overview: drivers embed it in their own object — pass that object as the
 * {@code container} and every callback first touches it, so a callback that runs after the
 * driver freed its object is reported as a use-after-free with the three sites. Two ways to
 * manage it:
 * <ul>
 *   <li>{@link #register}/{@link #registerLocked} link it at the head of the mm's list and
 *       pin the mm structure ({@code mmgrab}, recorded under this subscription's own handle);
 *       {@link #unregister} runs {@code ->release} if exit has not, unlinks it, waits for an
 *       SRCU grace period and drops the pin. After it returns the container may be freed.</li>
 *   <li>{@link #mmuNotifierGet}/{@link #mmuNotifierPut}: one refcounted subscription per ops
 *       table and mm, allocated by {@code ->alloc_notifier}; the last put unlinks it and
 *       queues {@code ->free_notifier} and the {@code mmdrop} after a grace period;
 *       {@link #mmuNotifierSynchronize} waits for their grace period ({@code synchronize_srcu}),
 *       {@link #mmuNotifierSrcuBarrier} for the frees themselves.</li>
 * </ul>
 * {@code exit_mmap} calls {@code ->release} and unlinks every subscription first thing.
 *
 * <p>Locking: {@code linked} and {@code users} change under the mm's
 * {@code subscriptions->lock}; callbacks run inside the global notifier SRCU read section.
 */
public final class MmuNotifier {
    /** Coverage mark: the last mmu_notifier_put's free_notifier ran from an SRCU callback after the grace period. */
    public static final Mark SRCU_FREE = Mark.of("mn.put.srcu-free",
            "The last mmu_notifier_put's free_notifier ran from an SRCU callback after the grace period");
    /** Coverage mark: an invalidation called a subscription whose last put had already queued its free. */
    public static final Mark CALLBACK_AFTER_PUT = Mark.of("mn.put.callback-after-put",
            "An invalidate_range_start ran on a subscription whose last put had already queued its free");
    /** Coverage mark: exit_mmap called ->release of a classic subscription still registered. */
    public static final Mark RELEASE_FROM_EXIT = Mark.of("mn.release.from-exit",
            "exit_mmap called ->release of a classic subscription still registered");

    /** The op names of the young callbacks, by {@link Op} ordinal (no text built per call). */
    private static final String[] YOUNG_OPS = java.util.Arrays.stream(Op.values())
            .map(op -> "->" + op.name().toLowerCase(java.util.Locale.ROOT)).toArray(String[]::new);

    private final String name;
    private final KObject container;
    private final RefHandle mmRef;
    private volatile MmuNotifierOps ops;
    private volatile MmStruct mm;
    private volatile boolean linked;
    private volatile boolean releaseReturned;
    private int users;
    private boolean freeQueued;

    /**
     * A subscription not embedded in any tracked object.
     *
     * @param name the subscription's name in reports and reference ledgers
     * @param ops  its callbacks
     */
    public MmuNotifier(String name, MmuNotifierOps ops) {
        this(null, name, ops);
    }

    /**
     * A subscription embedded in {@code container} (the driver object that holds it); every
     * callback checks that the container is still allocated.
     */
    public MmuNotifier(KObject container, String name, MmuNotifierOps ops) {
        this.container = container;
        this.name = Objects.requireNonNull(name);
        this.ops = Objects.requireNonNull(ops);
        this.mmRef = new RefHandle(name);
    }

    public String name() { return name; }

    /** The handle under which this subscription holds its {@code mm_count} reference. */
    RefHandle mmRef() { return mmRef; }

    public MmuNotifierOps ops() { return ops; }

    /** The driver object this subscription is embedded in, or null. */
    public KObject container() { return container; }

    /** {@code subscription->mm}: set by registration, valid (mm_count pinned) while registered. */
    public MmStruct mm() { return mm; }

    /** True while on the mm's list. */
    public boolean isLinked() { return linked; }

    /** True once this subscription's {@code ->release} has returned. */
    public boolean releaseReturned() { return releaseReturned; }

    /** {@code subscription->users} (get/put only). */
    public int users() { return users; }

    /**
     * True while a release fence declared on {@code mm} with this subscription holds:
     * registered on {@code mm}, and its {@code ->release} has not returned.
     */
    public boolean fenceActive(MmStruct on) {
        return mm == on && linked && !releaseReturned;
    }

    void setLinked(boolean linked) { this.linked = linked; }

    void attach(MmStruct on) {
        this.mm = on;
        this.users = 1;
        this.releaseReturned = false;
    }

    // ---- callbacks (each touches the container first, as container_of would) ----

    private Kernel kernel() {
        return mm.kernel();
    }

    private void touch(String op) {
        if (container != null) {
            container.checkAccess(op, name);
        }
    }

    void callRelease(MmStruct on) {
        if (MmuNotifierOps.has(ops, Op.RELEASE)) {
            touch("->release");
            NotifierContext.Callback prev = NotifierContext.enter(on.kernel(), name, "->release", false);
            try {
                ops.release(this, on);
            } finally {
                NotifierContext.exit(on.kernel(), prev, false);
            }
        }
        releaseReturned = true;
    }

    int callInvalidateRangeStart(MmuNotifierRange range) {
        touch("->invalidate_range_start");
        if (freeQueued) {
            kernel().mark(CALLBACK_AFTER_PUT);
        }
        boolean nonBlock = !range.blockable();
        NotifierContext.Callback prev = NotifierContext.enter(kernel(), name, "->invalidate_range_start", nonBlock);
        try {
            return ops.invalidateRangeStart(this, range);
        } finally {
            NotifierContext.exit(kernel(), prev, nonBlock);
        }
    }

    void callInvalidateRangeEnd(MmuNotifierRange range) {
        touch("->invalidate_range_end");
        boolean nonBlock = !range.blockable();
        NotifierContext.Callback prev = NotifierContext.enter(kernel(), name, "->invalidate_range_end", nonBlock);
        try {
            ops.invalidateRangeEnd(this, range);
        } finally {
            NotifierContext.exit(kernel(), prev, nonBlock);
        }
    }

    int callYoung(Op which, MmStruct on, long start, long end) {
        touch(YOUNG_OPS[which.ordinal()]);
        NotifierContext.Callback prev = NotifierContext.enter(on.kernel(), name, YOUNG_OPS[which.ordinal()], true);
        try {
            return switch (which) {
                case CLEAR_FLUSH_YOUNG -> ops.clearFlushYoung(this, on, start, end);
                case CLEAR_YOUNG -> ops.clearYoung(this, on, start, end);
                case TEST_YOUNG -> ops.testYoung(this, on, start);
                default -> throw new IllegalArgumentException(which.name());
            };
        } finally {
            NotifierContext.exit(on.kernel(), prev, true);
        }
    }

    void callArchInvalidateSecondaryTlbs(MmStruct on, long start, long end) {
        touch("->arch_invalidate_secondary_tlbs");
        NotifierContext.Callback prev = NotifierContext.enter(on.kernel(), name, "->arch_invalidate_secondary_tlbs", true);
        try {
            ops.archInvalidateSecondaryTlbs(this, on, start, end);
        } finally {
            NotifierContext.exit(on.kernel(), prev, true);
        }
    }

    // ---- register / unregister ----

    /**
     * {@code mmu_notifier_register}: takes the mmap lock for write and registers. The caller
     * must hold no mmap lock and must guarantee {@code mm_users > 0} for the whole call.
     * May sleep.
     *
     * @return 0, or {@code -EINVAL} for ops with both {@code arch_invalidate_secondary_tlbs}
     *         and start/end, {@code -ENOMEM} (no memory for the mm's subscriptions object on
     *         the first registration), {@code -EINTR} (a signal is pending: {@code mm_take_all_locks}
     *         gave up); on an error nothing is registered
     */
    public int register(MmStruct on) {
        Kernel k = on.kernel();
        k.syncObserver().mightSleep(k.current(), "mmu_notifier_register");
        on.mmapWriteLock();
        try {
            return registerLocked(on);
        } finally {
            on.mmapWriteUnlock();
        }
    }

    /**
     * {@code __mmu_notifier_register}: the caller holds the mmap lock for write (asserted).
     * Allocates the subscriptions object on first use, takes all VM locks
     * ({@code mm_take_all_locks}), pins the mm and links this subscription at the head.
     * {@code mm_users <= 0} is a BUG, reported as an invariant violation.
     *
     * @return 0, {@code -EINVAL}, {@code -ENOMEM} or {@code -EINTR} (see {@link #register})
     */
    public int registerLocked(MmStruct on) {
        return MmuNotifierSubscriptions.register(this, on);
    }

    /**
     * {@code mmu_notifier_unregister}: calls {@code ->release} if exit has not, unlinks,
     * waits for an SRCU grace period, then drops the mm pin. May sleep; must not be called
     * from a callback (reported). After it returns no callback of this subscription is
     * running and none will start.
     */
    public void unregister(MmStruct on) {
        Kernel k = on.kernel();
        k.syncObserver().mightSleep(k.current(), "mmu_notifier_unregister");
        k.note("mmu_notifier_unregister");
        NotifierContext.assertNotInCallback(k, "mmu_notifier_unregister(" + name + ")");
        if (on.mmCountPeek() <= 0) {
            k.report(new Failure.InvariantViolation(KernelRules.UNREGISTER_ON_GRABBED_MM,
                    "BUG_ON(mm_count <= 0): " + name + " unregistered from " + on.describeState(), k.site()));
        }
        MmuNotifierSubscriptions subs = on.notifierSubscriptions();
        var srcu = MmuNotifierSubscriptions.srcu(k);
        if (linked && subs != null) {
            int idx = srcu.readLock();
            try {
                callRelease(on);
            } finally {
                srcu.readUnlock(idx);
            }
            subs.unlink(this);
        }
        srcu.synchronizeSrcu();
        on.mmdropAs(mmRef);
    }

    /**
     * {@code mmu_notifier_unregister_no_release} (v3.x–v5.3, removed in v5.4 together with
     * {@code mmu_notifier_call_srcu}): unlinks the subscription and drops the mm pin
     * <em>without</em> calling {@code ->release} and without waiting for a grace period. A
     * callback that found the subscription on the list just before the unlink may still be
     * running or about to run; the caller had to defer the free itself. Kept because the 2019
     * hmm and amdkfd bugs (scenarios S3a, S3b) were built on it.
     */
    public void unregisterNoRelease(MmStruct on) {
        on.kernel().note("mmu_notifier_unregister_no_release");
        MmuNotifierSubscriptions subs = on.notifierSubscriptions();
        if (subs != null) {
            subs.unlink(this);
        }
        on.mmdropAs(mmRef);
    }

    // ---- get / put ----

    /** {@code mmu_notifier_get}: takes the mmap lock for write around {@link #mmuNotifierGetLocked}. */
    public static ErrPtr<MmuNotifier> mmuNotifierGet(MmuNotifierOps ops, MmStruct mm) {
        Kernel k = mm.kernel();
        k.syncObserver().mightSleep(k.current(), "mmu_notifier_get");
        mm.mmapWriteLock();
        try {
            return mmuNotifierGetLocked(ops, mm);
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /**
     * {@code mmu_notifier_get_locked}: the mmap lock is held for write (asserted). Returns
     * the subscription of {@code ops} on {@code mm} with one more user, or a new one from
     * {@code ops->alloc_notifier}, registered; {@code ERR_PTR(-EOVERFLOW)} if the users
     * count would wrap; the allocation's or the registration's error otherwise (then
     * {@code ->free_notifier} has been called).
     */
    public static ErrPtr<MmuNotifier> mmuNotifierGetLocked(MmuNotifierOps ops, MmStruct mm) {
        mm.mmapAssertWriteLocked();
        mm.kernel().note("mmu_notifier_get");
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs != null) {
            subs.lock().lock();
            try {
                MmuNotifier found = subs.findByOps(ops);
                if (found != null) {
                    if (found.users == -1) {
                        return ErrPtr.err(-Errno.EOVERFLOW);
                    }
                    found.users++;
                    return ErrPtr.of(found);
                }
            } finally {
                subs.lock().unlock();
            }
        }
        ErrPtr<MmuNotifier> allocated = ops.allocNotifier(mm);
        if (allocated.isErr()) {
            return allocated;
        }
        MmuNotifier sub = allocated.get();
        sub.ops = ops;
        int ret = MmuNotifierSubscriptions.register(sub, mm);
        if (ret != 0) {
            ops.freeNotifier(sub);
            return ErrPtr.err(ret);
        }
        return ErrPtr.of(sub);
    }

    /**
     * {@code mmu_notifier_put}: drops a user of a get/put subscription. The last put unlinks
     * it and queues, after an SRCU grace period, {@code ->free_notifier} and the
     * {@code mmdrop} of its mm; {@code ->release} is not called. Does not sleep; may be
     * called from {@code ->release}. A put with no users is a WARN, reported.
     */
    public void mmuNotifierPut() {
        MmStruct on = mm;
        Kernel k = on.kernel();
        k.note("mmu_notifier_put");
        MmuNotifierSubscriptions subs = on.notifierSubscriptions();
        subs.lock().lock();
        try {
            if (users == 0 || freeQueued) {
                k.report(new Failure.RefcountError(name + " users", Failure.RefcountProblem.UNDERFLOW,
                        "mmu_notifier_put with no users left", k.site()));
                return;
            }
            if (--users != 0) {
                return;
            }
            freeQueued = true;
            subs.unlinkLocked(this);
        } finally {
            subs.lock().unlock();
        }
        MmuNotifierSubscriptions.srcu(k).callSrcu(() -> {
            k.mark(SRCU_FREE);
            ops.freeNotifier(this);
            on.mmdropAs(mmRef);
        });
    }

    /**
     * {@code mmu_notifier_synchronize}: {@code synchronize_srcu} of the notifier SRCU domain, as
     * the kernel implements it. It waits for an SRCU grace period, so every read section (every
     * callback) that began before the call has ended and every free queued by
     * {@link #mmuNotifierPut} before it may now run; it does not wait for those frees to have
     * run. The kernel's comment promises that it does; Tree SRCU keeps that promise only while
     * all callbacks sit on one list (its small, boot-time state), not once callbacks are queued
     * per CPU ({@code srcu_barrier} is the primitive that waits for them). So a module that
     * frees its state or unloads right after this call can still have {@code ->free_notifier}
     * run on freed memory: catalogue M1 (docs/kernel-mapping.md). Must not be called from a
     * callback. May sleep.
     */
    public static void mmuNotifierSynchronize(Kernel k) {
        NotifierContext.assertNotInCallback(k, "mmu_notifier_synchronize");
        MmuNotifierSubscriptions.srcu(k).synchronizeSrcu();
    }

    /**
     * {@code srcu_barrier} of the notifier SRCU domain: waits until every callback queued before
     * the call ({@code ->free_notifier} and the {@code mmdrop} of each {@link #mmuNotifierPut})
     * has run. The kernel exports no such call (the domain is static in mm/mmu_notifier.c); this
     * is what {@code mmu_notifier_synchronize} must do to keep its documented promise, the
     * kernel-side fix of catalogue M1. Must not be called from a callback. May sleep.
     */
    public static void mmuNotifierSrcuBarrier(Kernel k) {
        NotifierContext.assertNotInCallback(k, "srcu_barrier(mmu_notifier srcu)");
        MmuNotifierSubscriptions.srcu(k).srcuBarrier();
    }

    @Override
    public String toString() {
        return name;
    }
}
