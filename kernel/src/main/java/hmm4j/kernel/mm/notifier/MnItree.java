package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.lib.IntervalTree;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.LockMap;
import hmm4j.sim.sync.SpinLock;
import hmm4j.sim.sync.WaitQueueHead;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The interval-notifier half of one mm's {@code mmu_notifier_subscriptions}
 * (mm/mmu_notifier.c): the interval tree, the global {@code invalidate_seq},
 * {@code active_invalidate_ranges}, the deferred list and the wait queue, with the
 * algorithms {@code mn_itree_inv_start_range} (A), {@code mn_itree_invalidate} (B),
 * {@code mn_itree_inv_end} (C), {@code mn_itree_release} (J) and the locked halves of
 * insert (H) and remove (I).
 *
 * <p>Overview of the sequence protocol: the sequence is even while no
 * invalidation that hit a subscription is in flight; the first such invalidation makes it
 * odd ({@code seq |= 1}) and freezes the tree (inserts and removes go to the deferred list);
 * the last end makes it even again ({@code seq + 1}), drains the deferred list and wakes
 * every waiter. Subscriptions hold odd values, so an idle subscription never equals the
 * global sequence.
 *
 * <p>Locking: every field is guarded by {@code subscriptions->lock}; the tree is walked
 * without the lock while the sequence is odd (nothing can change it then). The sequence is
 * volatile because waiters and {@code read_begin}'s sleep condition read it locklessly.
 */
final class MnItree {
    /** The scheduling point between finding a subscription in the frozen tree and calling it. */
    private static final Op.Kind TREE_WALK = new Op.Kind("interval tree walk", Op.Access.READ);
    private static final Op.Kind READ_ONCE = new Op.Kind("READ_ONCE", Op.Access.READ);

    private final MmStruct mm;
    private final SpinLock lock;
    private final IntervalTree<MmuIntervalNotifier> tree = new IntervalTree<>();
    private final Deque<MmuIntervalNotifier> deferredList = new ArrayDeque<>();
    private final WaitQueueHead wq;
    private final LockMap startMap;
    private volatile long invalidateSeq = 2;
    private long activeInvalidateRanges;
    private final Op treeWalkOp;
    private final Op readGlobalSeqOp;

    /** The first overlapping subscription and the sequence value of an invalidation (A's result). */
    private record Walk(MmuIntervalNotifier first, long curSeq) {
    }

    MnItree(MmStruct mm, SpinLock lock) {
        this.mm = mm;
        this.lock = lock;
        this.wq = new WaitQueueHead(mm.kernel(), mm.name() + "->notifier_subscriptions->wq");
        this.startMap = MmuNotifierSubscriptions.lockMap(mm.kernel());
        this.treeWalkOp = new Op(TREE_WALK, mm.kernel().newTarget(mm.name() + "->notifier_subscriptions->itree"),
                "interval tree walk");
        this.readGlobalSeqOp = new Op(READ_ONCE,
                mm.kernel().newTarget(mm.name() + "->notifier_subscriptions->invalidate_seq"),
                "READ_ONCE(subscriptions->invalidate_seq)");
        mm.kernel().atQuiescence(KernelRules.QUIESCENT_STATE.id(), this::validateAtQuiescence);
    }

    /**
     * The whole-model check of the interval state once every task is done (rule
     * interval.quiescent-state): no invalidation in flight, an even sequence, an empty deferred list, every
     * subscription in the tree with an odd sequence different from the global one, and a
     * well-formed tree.
     */
    private void validateAtQuiescence() {
        if (mm.isFreed()) {
            return;
        }
        List<String> problems = new ArrayList<>();
        if (activeInvalidateRanges != 0) {
            problems.add(activeInvalidateRanges + " invalidation(s) still active");
        }
        if ((invalidateSeq & 1) != 0) {
            problems.add("invalidate_seq " + invalidateSeq + " is odd");
        }
        if (!deferredList.isEmpty()) {
            problems.add(deferredList.size() + " subscription(s) left on the deferred list");
        }
        for (MmuIntervalNotifier sub : tree) {
            long seq = sub.seqPeek();
            if ((seq & 1) == 0 || seq == invalidateSeq) {
                problems.add(sub.name() + " has invalidate_seq " + seq + " against the global " + invalidateSeq);
            }
        }
        try {
            tree.validate();
        } catch (IllegalStateException e) {
            problems.add("interval tree malformed: " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            Kernel k = mm.kernel();
            k.report(new Failure.InvariantViolation(KernelRules.QUIESCENT_STATE,
                    mm.name() + ": " + String.join("; ", problems), k.site()));
        }
    }

    long seqPeek() {
        return invalidateSeq;
    }

    long activePeek() {
        return activeInvalidateRanges;
    }

    int deferredPeek() {
        return deferredList.size();
    }

    IntervalTree<MmuIntervalNotifier> treePeek() {
        return tree;
    }

    // ---- A, B, C: the writer side ----

    /** A: counts the invalidation in; if it hits a subscription, enters the fully-excluded state. */
    private Walk invStartRange(MmuNotifierRange range) {
        lock.lock();
        try {
            activeInvalidateRanges++;
            MmuIntervalNotifier first = tree.iterFirst(range.start(), range.end() - 1);
            if (first != null) {
                invalidateSeq |= 1;
            }
            return new Walk(first, invalidateSeq);
        } finally {
            lock.unlock();
        }
    }

    /**
     * B: calls {@code ->invalidate} on every subscription overlapping the range, in ascending
     * start order, with no lock held. A false from a blockable range is reported (rule
     * interval.false-only-nonblockable) and
     * the walk goes on; from a non-blockable one the walk stops, C runs at once and
     * {@code -EAGAIN} is returned.
     */
    int invalidate(MmuNotifierRange range) {
        Walk walk = invStartRange(range);
        long last = range.end() - 1;
        for (MmuIntervalNotifier sub = walk.first(); sub != null; sub = tree.iterNext(sub, range.start(), last)) {
            mm.kernel().point(treeWalkOp);
            if (sub.callInvalidate(range, walk.curSeq())) {
                continue;
            }
            if (range.blockable()) {
                reportFalseOnBlockable(sub, range);
                continue;
            }
            mm.kernel().mark(MmuIntervalNotifier.NONBLOCK_EAGAIN);
            invEnd();
            return -hmm4j.kernel.mm.Errno.EAGAIN;
        }
        return 0;
    }

    /**
     * C: counts an invalidation out; the last one of a fully-excluded period makes the
     * sequence even, applies the deferred inserts and removes, and wakes every waiter.
     */
    void invEnd() {
        List<MmuIntervalNotifier> released = null;
        lock.lock();
        try {
            activeInvalidateRanges--;
            if (activeInvalidateRanges != 0 || (invalidateSeq & 1) == 0) {
                return;
            }
            invalidateSeq++;
            for (MmuIntervalNotifier sub; (sub = deferredList.pollFirst()) != null; ) {
                sub.setDeferred(false);
                if (sub.isInTree()) {
                    tree.remove(sub);
                    if (sub.deferredRelease() != null) {
                        released = released == null ? new ArrayList<>() : released;
                        released.add(sub);
                    }
                } else {
                    tree.insert(sub);
                }
            }
        } finally {
            lock.unlock();
        }
        wq.wakeUpAll();
        if (released != null) {
            released.forEach(MmuIntervalNotifierProposed2020::runRelease);
        }
    }

    /** Removes {@code sub} now if the tree is not frozen (true), else queues its removal (false). */
    boolean removeOrDefer(MmuIntervalNotifier sub) {
        lock.lock();
        try {
            if ((invalidateSeq & 1) == 0) {
                tree.remove(sub);
                return true;
            }
            if (!sub.isDeferred()) {
                deferredList.addFirst(sub);
                sub.setDeferred(true);
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** The first subscription overlapping [start, last] with {@code ops}, looked up under the lock. */
    MmuIntervalNotifier findLocked(MmuIntervalNotifierOps ops, long start, long last) {
        lock.lock();
        try {
            for (MmuIntervalNotifier sub = tree.iterFirst(start, last); sub != null;
                    sub = tree.iterNext(sub, start, last)) {
                if (sub.ops() == ops) {
                    return sub;
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * J ({@code mn_itree_release}, exit_mmap step 1): a blockable RELEASE invalidation of the
     * whole space; every overlapping subscription is called (a false is reported) and stays
     * in the tree.
     */
    void release() {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_RELEASE,
                MmuNotifierRange.MMU_NOTIFIER_RANGE_BLOCKABLE, mm, 0, MmuNotifierRange.ULONG_MAX);
        Walk walk = invStartRange(range);
        long last = range.end() - 1;
        for (MmuIntervalNotifier sub = walk.first(); sub != null; sub = tree.iterNext(sub, range.start(), last)) {
            if (!sub.callInvalidate(range, walk.curSeq())) {
                reportFalseOnBlockable(sub, range);
            }
        }
        invEnd();
    }

    private void reportFalseOnBlockable(MmuIntervalNotifier sub, MmuNotifierRange range) {
        Kernel k = mm.kernel();
        k.report(new Failure.InvariantViolation(KernelRules.FALSE_ONLY_NONBLOCKABLE,
                sub.name() + "->invalidate returned false for " + range, k.site()));
    }

    // ---- D: read_begin ----

    /**
     * D ({@code mmu_interval_read_begin}): the subscription's sequence, then the global one,
     * each a {@code READ_ONCE} with no lock taken; if they are equal an invalidation that
     * covers the subscription is in flight and the caller sleeps until its period ends.
     *
     * <p>Mainline reads the pair under {@code subscriptions->lock}. Under the model's
     * sequential consistency at scheduling points the two ordered reads give the same
     * outcomes: a read of the old subscription value racing with a callback returns the old
     * value, which {@code read_retry} then finds changed; a read of the
     * callback's value sees the global value either still equal (wait) or already advanced
     * by the end (no collision left to detect). See docs/kernel-mapping.md.
     */
    long readBegin(MmuIntervalNotifier sub) {
        Kernel k = mm.kernel();
        k.point(sub.readSeqOp());
        long seq = sub.seqPeek();
        k.point(readGlobalSeqOp);
        boolean busy = seq == invalidateSeq;
        lockdepPretendStart();
        if (busy) {
            k.mark(MmuIntervalNotifier.READ_BEGIN_WAITS);
            waitUntilSeqChanges(seq);
        }
        return seq;
    }

    /** The lockdep map pretend-acquired by read_begin and remove: no lock a callback takes may be held. */
    void lockdepPretendStart() {
        startMap.acquire();
        startMap.release();
    }

    /** Sleeps on the wait queue until the global sequence differs from {@code seq}. */
    void waitUntilSeqChanges(long seq) {
        wq.waitEvent(() -> invalidateSeq != seq);
    }

    // ---- H, I: insert and remove under the lock ----

    /**
     * H, steps 5–8: puts the subscription in the tree now, or on the deferred list while the
     * tree is frozen, and sets its sequence so that a {@code read_begin} on it waits for the
     * invalidations in flight (whose ranges are unknown) to end.
     */
    void insertLocked(MmuIntervalNotifier sub) {
        lock.lock();
        try {
            if (activeInvalidateRanges != 0) {
                if ((invalidateSeq & 1) != 0) {
                    mm.kernel().mark(MmuIntervalNotifier.DEFERRED_INSERT);
                    deferredList.addFirst(sub);
                    sub.setDeferred(true);
                } else {
                    mm.kernel().mark(MmuIntervalNotifier.INSERT_DURING_INVALIDATION);
                    invalidateSeq |= 1;
                    tree.insert(sub);
                }
                sub.setSeqLocked(invalidateSeq);
            } else {
                if ((invalidateSeq & 1) != 0) {
                    Kernel k = mm.kernel();
                    k.report(new Failure.InvariantViolation(KernelRules.SEQ_EVEN_WHEN_IDLE,
                            "invalidate_seq " + invalidateSeq + " is odd with no invalidation in flight on " + mm.name(),
                            k.site()));
                }
                sub.setSeqLocked(invalidateSeq - 1);
                tree.insert(sub);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * I, steps 2–5: takes the subscription out of the tree now, or — while the tree is
     * frozen — cancels its pending insert or queues its removal.
     *
     * @return the sequence value to wait past (0: no wait needed), or -1 if the
     *         subscription is neither in the tree nor pending (misuse)
     */
    long removeLocked(MmuIntervalNotifier sub) {
        lock.lock();
        try {
            if ((invalidateSeq & 1) != 0) {
                if (!sub.isInTree()) {
                    if (!sub.isDeferred()) {
                        return -1;
                    }
                    mm.kernel().mark(MmuIntervalNotifier.REMOVE_CANCELS_INSERT);
                    deferredList.remove(sub);
                    sub.setDeferred(false);
                    return 0;
                }
                mm.kernel().mark(MmuIntervalNotifier.DEFERRED_REMOVE);
                if (!sub.isDeferred()) {
                    deferredList.addFirst(sub);
                    sub.setDeferred(true);
                }
                return invalidateSeq;
            }
            if (!sub.isInTree()) {
                return -1;
            }
            tree.remove(sub);
            return 0;
        } finally {
            lock.unlock();
        }
    }
}
