package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import java.util.Objects;

/**
 * {@code struct mmu_notifier}: one classic subscription. Drivers embed it in their own
 * object (which has its own lifetime) and pass their {@link MmuNotifierOps}.
 *
 * <p>Overview: {@link #register} links it at the head of the mm's list and pins the mm
 * structure ({@code mmgrab}, recorded under this subscription's name); {@link #unregister}
 * runs {@code ->release} if exit has not, unlinks it, waits for an SRCU grace period (so no
 * callback can still be running) and drops the pin. {@code exit_mmap} calls
 * {@code ->release} and unlinks every subscription first thing.
 *
 * <p>Lifetime: the subscription does not free itself; after {@link #unregister} returns
 * the embedding object may be freed. Freeing it without a grace period is the S3a bug.
 */
public final class MmuNotifier {
    private final String name;
    private final MmuNotifierOps ops;
    private volatile MmStruct mm;
    private volatile boolean linked;
    private volatile boolean releaseReturned;

    /**
     * @param name the subscription's name in reports and reference ledgers
     * @param ops  its callbacks
     */
    public MmuNotifier(String name, MmuNotifierOps ops) {
        this.name = Objects.requireNonNull(name);
        this.ops = Objects.requireNonNull(ops);
    }

    public String name() { return name; }

    public MmuNotifierOps ops() { return ops; }

    /** {@code subscription->mm}: set by registration, valid (mm_count pinned) while registered. */
    public MmStruct mm() { return mm; }

    /** True while on the mm's list. */
    public boolean isLinked() { return linked; }

    /** True once this subscription's {@code ->release} has returned. */
    public boolean releaseReturned() { return releaseReturned; }

    /**
     * True while a release fence declared on {@code mm} with this subscription holds:
     * registered on {@code mm}, and its {@code ->release} has not returned.
     */
    public boolean fenceActive(MmStruct on) {
        return mm == on && linked && !releaseReturned;
    }

    void setLinked(boolean linked) { this.linked = linked; }

    void setMm(MmStruct mm) { this.mm = mm; }

    void callRelease(MmStruct on) {
        ops.release(this, on);
        releaseReturned = true;
    }

    /**
     * {@code mmu_notifier_register}: takes the mmap lock for write and registers. The caller
     * must hold no mmap lock and must guarantee {@code mm_users > 0} for the whole call.
     * May sleep. Returns 0.
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
     * ({@code mm_take_all_locks}), links this subscription at the head and pins the mm.
     * {@code mm_users <= 0} is a BUG, reported as an invariant violation.
     */
    public int registerLocked(MmStruct on) {
        Kernel k = on.kernel();
        on.mmapAssertWriteLocked();
        if (on.mmUsersPeek() <= 0) {
            k.report(new Failure.InvariantViolation("BUG_ON(mm_users <= 0) in __mmu_notifier_register",
                    "registering " + name + " on " + on.name() + " whose address space is gone (" + on.describeState()
                            + ")", k.site()));
        }
        MmuNotifierSubscriptions subs = on.notifierSubscriptions();
        if (subs == null) {
            subs = new MmuNotifierSubscriptions(on);
        }
        MmuNotifierSubscriptions.mmTakeAllLocks(on);
        try {
            if (on.notifierSubscriptions() == null) {
                on.setNotifierSubscriptions(subs);
            }
            on.mmgrabAs(name);
            this.mm = on;
            this.releaseReturned = false;
            subs.link(this);
        } finally {
            MmuNotifierSubscriptions.mmDropAllLocks(on);
        }
        return 0;
    }

    /**
     * {@code mmu_notifier_unregister}: calls {@code ->release} if exit has not, unlinks,
     * waits for an SRCU grace period, then drops the mm pin. May sleep; must not be called
     * from a callback. After it returns no callback of this subscription is running.
     */
    public void unregister(MmStruct on) {
        Kernel k = on.kernel();
        k.syncObserver().mightSleep(k.current(), "mmu_notifier_unregister");
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
        on.mmdropAs(name);
    }

    @Override
    public String toString() {
        return name;
    }
}
