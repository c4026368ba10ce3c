package hmm4j.kernel.mm.notifier;

import hmm4j.check.lifetime.KObject;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.lib.IntervalTree;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Mark;
import hmm4j.sim.failure.Failure;
import java.util.Objects;

/**
 * {@code struct mmu_interval_notifier}: a subscription to invalidations of one address
 * range of one mm (mm/mmu_notifier.c), with the collision-retry read side a mirroring driver
 * uses to build device mappings that are never stale.
 *
 * <p>Overview: {@link #mmuIntervalNotifierInsert} subscribes [start, start + length − 1];
 * from then on every overlapping invalidation calls the ops' {@code invalidate} with an odd
 * {@code cur_seq}, which the driver stores with {@link #mmuIntervalSetSeq} under its own
 * lock. The driver's fault path brackets its work with {@link #mmuIntervalReadBegin} and
 * {@link #mmuIntervalReadRetry} (under that same lock); a changed sequence means an
 * invalidation collided and the work is redone. The loop, as in Documentation/mm/hmm.rst:
 *
 * <pre>{@code
 * if (!mm.mmgetNotZero()) return -EFAULT;
 * for (;;) {
 *     range.setNotifierSeq(sub.mmuIntervalReadBegin());
 *     mm.mmapReadLock();
 *     int ret = Hmm.hmmRangeFault(range);
 *     mm.mmapReadUnlock();
 *     if (ret == -EBUSY) continue;
 *     if (ret != 0) break;
 *     driverLock.lock();
 *     if (sub.mmuIntervalReadRetry(range.notifierSeq())) { driverLock.unlock(); continue; }
 *     // program the device page table from range.hmmPfns()
 *     driverLock.unlock();
 *     break;
 * }
 * mm.mmput();
 * }</pre>
 *
 * <p>Lifetime: insert pins the mm structure ({@code mmgrab}, recorded under the
 * subscription's own handle); {@link #mmuIntervalNotifierRemove} waits until no invalidation
 * can still call it, then drops the pin — after it returns the embedding object may be
 * freed. Pass that object as the {@code container}: every callback touches it first, so a
 * callback into a freed driver object is a reported use-after-free.
 *
 * <p>Locking: tree membership, the deferred flag and the sequence are written under the
 * mm's {@code subscriptions->lock} or (for {@code set_seq}) under the driver's lock;
 * {@link #mmuIntervalCheckRetry} reads the sequence locklessly ({@code READ_ONCE}).
 */
public final class MmuIntervalNotifier extends IntervalTree.Node {
    /** Coverage mark: an insert found the tree frozen by an invalidation in flight and went on the deferred list. */
    public static final Mark DEFERRED_INSERT = Mark.of("mn.interval.deferred-insert",
            "An insert found the tree frozen by an invalidation in flight and went on the deferred list");
    /** Coverage mark: an insert ran while an invalidation that hit nothing was in flight and froze the tree itself. */
    public static final Mark INSERT_DURING_INVALIDATION = Mark.of("mn.interval.insert-during-invalidation",
            "An insert ran while an invalidation that hit nothing was in flight and froze the tree itself");
    /** Coverage mark: a remove found the tree frozen, queued the removal and waited for the invalidation to end. */
    public static final Mark DEFERRED_REMOVE = Mark.of("mn.interval.deferred-remove",
            "A remove found the tree frozen, queued the removal and waited for the invalidation to end");
    /** Coverage mark: a remove cancelled an insert still waiting on the deferred list. */
    public static final Mark REMOVE_CANCELS_INSERT = Mark.of("mn.interval.remove-cancels-insert",
            "A remove cancelled an insert still waiting on the deferred list");
    /** Coverage mark: mmu_interval_read_begin found a collision in flight and slept until it ended. */
    public static final Mark READ_BEGIN_WAITS = Mark.of("mn.interval.read-begin-waits",
            "mmu_interval_read_begin found a collision in flight and slept until it ended");
    /** Coverage mark: mmu_interval_read_retry returned true: an invalidation collided with the section. */
    public static final Mark READ_RETRY = Mark.of("mn.interval.read-retry",
            "mmu_interval_read_retry returned true: an invalidation collided with the section");
    /** Coverage mark: a non-blockable invalidation stopped at a subscription that could not block and returned -EAGAIN. */
    public static final Mark NONBLOCK_EAGAIN = Mark.of("mn.interval.nonblock-eagain",
            "A non-blockable invalidation stopped at a subscription that could not block and returned -EAGAIN");

    private static final Op.Kind READ_ONCE = new Op.Kind("READ_ONCE", Op.Access.READ);
    private static final Op.Kind WRITE_ONCE = new Op.Kind("WRITE_ONCE", Op.Access.WRITE);

    private final String name;
    private final KObject container;
    private volatile MmuIntervalNotifierOps ops;
    private volatile MmStruct mm;
    private volatile long invalidateSeq;
    /** The accesses of this subscription's sequence, built at its first insert (when the kernel is known). */
    private volatile Op readSeqOp;
    private volatile Op writeSeqOp;
    private boolean deferred;
    private volatile Runnable deferredRelease;
    private final RefHandle mmRef;

    /** A subscription not embedded in any tracked object. */
    public MmuIntervalNotifier(String name) {
        this(null, name);
    }

    /** A subscription embedded in {@code container}; every callback checks the container is alive. */
    public MmuIntervalNotifier(KObject container, String name) {
        this.container = container;
        this.name = Objects.requireNonNull(name);
        this.mmRef = new RefHandle(name);
    }

    public String name() { return name; }

    /** The handle under which this subscription holds its {@code mm_count} reference. */
    RefHandle mmRef() { return mmRef; }

    /** {@code interval_sub->mm}: set by insert, structure pinned until remove. */
    public MmStruct mm() { return mm; }

    public MmuIntervalNotifierOps ops() { return ops; }

    /** The driver object this subscription is embedded in, or null. */
    public KObject container() { return container; }

    /** The subscription's sequence, without a scheduling point (tests and reports). */
    public long seqPeek() { return invalidateSeq; }

    /** {@code READ_ONCE(interval_sub->invalidate_seq)} as a scheduling-point operation (set at insert). */
    Op readSeqOp() { return readSeqOp; }

    boolean isDeferred() { return deferred; }

    void setDeferred(boolean deferred) { this.deferred = deferred; }

    void setSeqLocked(long seq) { this.invalidateSeq = seq; }

    /** The release callback of a removal queued by the 2020 proposal's put, or null. */
    Runnable deferredRelease() { return deferredRelease; }

    void setDeferredRelease(Runnable release) { this.deferredRelease = release; }

    /** Touches the embedding object, as every dereference of the subscription would. */
    private void touch(String op) {
        if (container != null) {
            container.checkAccess(op, name);
        }
    }

    boolean callInvalidate(MmuNotifierRange range, long curSeq) {
        Kernel k = mm.kernel();
        touch("->invalidate");
        boolean nonBlock = !range.blockable();
        NotifierContext.Callback prev = NotifierContext.enterInterval(k, name, range);
        try {
            return ops.invalidate(this, range, curSeq);
        } finally {
            NotifierContext.exitInterval(k, prev, nonBlock);
        }
    }

    // ---- insert / remove ----

    /**
     * {@code mmu_interval_notifier_insert}: subscribes [start, start + length − 1] of
     * {@code mm}. Enables interval mode on first use (taking the mmap lock for write), so
     * the caller must not hold the mmap lock, which every call tells lockdep
     * ({@code might_lock}, as the kernel does on each call, not only the first); it must hold
     * an {@code mm_users} pin (the pin rule is checked). After return the ops are called for every overlapping invalidation,
     * but the subscription may not be in the tree yet: use {@link #mmuIntervalReadBegin}.
     *
     * @return 0, {@code -EOVERFLOW} (empty or wrapping range), {@code -EINVAL} (the address
     *         space is gone; a WARN, reported; or the subscription is already inserted,
     *         reported: the kernel would corrupt its interval tree)
     */
    public int mmuIntervalNotifierInsert(MmStruct on, long start, long length, MmuIntervalNotifierOps ops) {
        Kernel k = on.kernel();
        k.syncObserver().mightSleep(k.current(), "mmu_interval_notifier_insert");
        on.mmapLock().mightLock();
        MmuNotifierSubscriptions subs = on.notifierSubscriptions();
        if (subs == null || !subs.hasItree()) {
            on.mmapWriteLock();
            try {
                int ret = MmuNotifierSubscriptions.register(null, on);
                if (ret != 0) {
                    return ret;
                }
            } finally {
                on.mmapWriteUnlock();
            }
        }
        return insertCommon(on, start, length, ops);
    }

    /**
     * {@code mmu_interval_notifier_insert_locked}: as {@link #mmuIntervalNotifierInsert} with
     * the mmap lock held for write by the caller (asserted).
     */
    public int mmuIntervalNotifierInsertLocked(MmStruct on, long start, long length, MmuIntervalNotifierOps ops) {
        on.mmapAssertWriteLocked();
        MmuNotifierSubscriptions subs = on.notifierSubscriptions();
        if (subs == null || !subs.hasItree()) {
            int ret = MmuNotifierSubscriptions.register(null, on);
            if (ret != 0) {
                return ret;
            }
        }
        return insertCommon(on, start, length, ops);
    }

    /** {@code __mmu_interval_notifier_insert}. */
    private int insertCommon(MmStruct on, long start, long length, MmuIntervalNotifierOps newOps) {
        on.kernel().note("mmu_interval_notifier_insert");
        Kernel k = on.kernel();
        if (isInTree() || deferred) {
            k.report(new Failure.InvariantViolation(KernelRules.INSERT_PAIRS_REMOVE,
                    "mmu_interval_notifier_insert(" + name + ") of a subscription already inserted on " + mm, k.site()));
            return -Errno.EINVAL;
        }
        this.mm = on;
        if (readSeqOp == null) {
            // One target per subscription: the sequences of two subscriptions are two objects.
            Op.Target seq = k.newTarget(name + "->invalidate_seq");
            readSeqOp = new Op(READ_ONCE, seq, "READ_ONCE(interval_sub->invalidate_seq)");
            writeSeqOp = new Op(WRITE_ONCE, seq, "WRITE_ONCE(interval_sub->invalidate_seq)");
        }
        this.ops = Objects.requireNonNull(newOps, "ops");
        long last = start + length - 1;
        if (length == 0 || Long.compareUnsigned(last, start) < 0) {
            return -Errno.EOVERFLOW;
        }
        setInterval(start, last);
        on.assertAddressSpacePinned("mmu_interval_notifier_insert");
        if (on.mmUsersPeek() <= 0) {
            k.report(new Failure.InvariantViolation(KernelRules.INSERT_ON_LIVE_MM,
                    "WARN_ON(mm_users <= 0): " + name + " inserted on " + on.describeState(), k.site()));
            return -Errno.EINVAL;
        }
        on.mmgrabAs(mmRef);
        on.notifierSubscriptions().itree().insertLocked(this);
        return 0;
    }

    /**
     * {@code mmu_interval_notifier_remove}: after it returns no {@code invalidate} for this
     * subscription is running or will start, it is in neither the tree nor the deferred
     * list, and the mm pin taken by insert is dropped. May sleep (while an invalidation
     * that froze the tree is in flight); must not be called from a callback or under a lock
     * a callback takes (reported: the lockdep map and rule notifier.not-from-callback). Removing
     * a subscription that was inserted and already removed is reported.
     *
     * @throws IllegalStateException if the subscription was never inserted: it belongs to no
     *         mm yet (the kernel would dereference a null {@code interval_sub->mm})
     */
    public void mmuIntervalNotifierRemove() {
        touch("mmu_interval_notifier_remove");
        MmStruct on = mm;
        if (on == null) {
            throw new IllegalStateException(name + " was never inserted");
        }
        Kernel k = on.kernel();
        k.note("mmu_interval_notifier_remove");
        k.syncObserver().mightSleep(k.current(), "mmu_interval_notifier_remove");
        NotifierContext.assertNotInCallback(k, "mmu_interval_notifier_remove(" + name + ")");
        MnItree itree = on.notifierSubscriptions().itree();
        long waitSeq = itree.removeLocked(this);
        if (waitSeq < 0) {
            k.report(new Failure.InvariantViolation(KernelRules.REMOVE_PAIRS_INSERT,
                    "mmu_interval_notifier_remove(" + name + ") of a subscription that is not inserted", k.site()));
            return;
        }
        itree.lockdepPretendStart();
        if (waitSeq != 0) {
            itree.waitUntilSeqChanges(waitSeq);
        }
        on.mmdropAs(mmRef);
    }

    // ---- the read side ----

    /**
     * {@code mmu_interval_read_begin}: opens a collision-retry section and returns the
     * sequence to pass to {@link #mmuIntervalReadRetry}. Sleeps while an invalidation that
     * covers this subscription is in flight; the returned value may already be stale (the
     * function does not loop). Must not be called under a lock a callback takes (lockdep).
     */
    public long mmuIntervalReadBegin() {
        touch("mmu_interval_read_begin");
        return mm.notifierSubscriptions().itree().readBegin(this);
    }

    /**
     * {@code mmu_interval_read_retry}: true if an invalidation collided with the section
     * opened by the {@link #mmuIntervalReadBegin} that returned {@code seq}. Must be called
     * under the driver lock that {@code invalidate} holds around {@link #mmuIntervalSetSeq}.
     */
    public boolean mmuIntervalReadRetry(long seq) {
        touch("mmu_interval_read_retry");
        if (invalidateSeq == seq) {
            return false;
        }
        mm.kernel().mark(READ_RETRY);
        return true;
    }

    /**
     * {@code mmu_interval_check_retry}: a lockless hint; true is reliable (a later
     * {@link #mmuIntervalReadRetry} will be true as well), false may be stale.
     */
    public boolean mmuIntervalCheckRetry(long seq) {
        touch("mmu_interval_check_retry");
        mm.kernel().point(readSeqOp);
        return invalidateSeq != seq;
    }

    /**
     * {@code mmu_interval_set_seq}: called from {@code invalidate}, under the driver lock,
     * with the {@code cur_seq} it received.
     */
    public void mmuIntervalSetSeq(long curSeq) {
        touch("mmu_interval_set_seq");
        mm.kernel().point(writeSeqOp);
        invalidateSeq = curSeq;
    }

    @Override
    public String toString() {
        return name + super.toString();
    }
}
