package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.LockMap;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.SpinLock;
import hmm4j.sim.sync.SrcuStruct;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code struct mmu_notifier_subscriptions}: one per mm, allocated on first registration,
 * freed only by {@code __mmdrop}. Holds the classic subscription list (walked under the
 * global SRCU domain, edited under {@code lock}).
 *
 * <p>Locking: list edits under {@link #lock} (a spinlock); readers walk a snapshot inside an
 * SRCU read section of the kernel-wide domain ({@link #srcu}); registration serialises with
 * every start/end section through the mmap write lock plus {@code mm_take_all_locks}.
 *
 * <p>Differences from the kernel: the RCU hlist is a copy-on-write list, which gives
 * readers the same "whole list as of some moment" view.
 */
public final class MmuNotifierSubscriptions {
    private final MmStruct mm;
    private final SpinLock lock;
    private final List<MmuNotifier> list = new CopyOnWriteArrayList<>();

    /** Kernel-wide notifier state: the SRCU domain, the all-locks mutex, the lockdep map. */
    private static final class Globals {
        final SrcuStruct srcu;
        final Mutex allLocks;
        final LockMap startMap;

        Globals(Kernel k) {
            srcu = new SrcuStruct(k, "mmu_notifier_srcu");
            allLocks = new Mutex(k, "mm_all_locks_mutex");
            startMap = new LockMap(k, "mmu_notifier_invalidate_range_start");
        }
    }

    MmuNotifierSubscriptions(MmStruct mm) {
        this.mm = mm;
        this.lock = new SpinLock(mm.kernel(), "subscriptions->lock", mm.name() + "->notifier_subscriptions->lock");
    }

    private static Globals globals(Kernel k) {
        return k.component(Globals.class, () -> new Globals(k));
    }

    /** The global notifier SRCU domain ({@code srcu}) of this kernel. */
    public static SrcuStruct srcu(Kernel k) {
        return globals(k).srcu;
    }

    /** The lockdep map {@code __mmu_notifier_invalidate_range_start_map}. */
    public static LockMap lockMap(Kernel k) {
        return globals(k).startMap;
    }

    /**
     * {@code mm_take_all_locks}: with the mmap write lock held (asserted), takes the global
     * all-locks mutex and walks every VMA (so the caller must hold an address-space pin). No
     * fault, rmap walker or invalidate section can be in flight on this mm until
     * {@link #mmDropAllLocks}.
     */
    static void mmTakeAllLocks(MmStruct mm) {
        mm.mmapAssertWriteLocked();
        globals(mm.kernel()).allLocks.lock();
        mm.vmas("mm_take_all_locks").count();
    }

    /** {@code mm_drop_all_locks}. */
    static void mmDropAllLocks(MmStruct mm) {
        globals(mm.kernel()).allLocks.unlock();
    }

    /** The classic subscriptions, in call order (most recent registration first). */
    public List<MmuNotifier> subscriptions() {
        return List.copyOf(list);
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
            list.remove(sub);
            sub.setLinked(false);
        } finally {
            lock.unlock();
        }
    }

    void invalidateRangeStart(MmuNotifierRange range) {
        forEachUnderSrcu(sub -> {
            int ret = sub.ops().invalidateRangeStart(sub, range);
            if (ret != 0 && range.blockable()) {
                mm.kernel().report(new Failure.InvariantViolation("blockable invalidate_range_start failed",
                        sub.name() + " returned " + ret + " for " + range, mm.kernel().site()));
            }
        });
    }

    void invalidateRangeEnd(MmuNotifierRange range) {
        forEachUnderSrcu(sub -> sub.ops().invalidateRangeEnd(sub, range));
    }

    /** Calls {@code op} on every subscription inside one read section of the notifier SRCU domain. */
    private void forEachUnderSrcu(java.util.function.Consumer<MmuNotifier> op) {
        if (list.isEmpty()) {
            return;
        }
        SrcuStruct srcu = srcu(mm.kernel());
        int idx = srcu.readLock();
        try {
            list.forEach(op);
        } finally {
            srcu.readUnlock(idx);
        }
    }

    /**
     * {@code mmu_notifier_release} (exit_mmap step 1): calls every subscription's
     * {@code ->release} inside the SRCU read section, unlinks them all, then waits for a
     * grace period so that a release run concurrently by {@code unregister} has finished
     * before anything is unmapped. Does nothing if the mm has no subscriptions.
     */
    public static void mmuNotifierRelease(MmStruct mm) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null) {
            return;
        }
        SrcuStruct srcu = srcu(mm.kernel());
        int idx = srcu.readLock();
        try {
            for (MmuNotifier sub : subs.list) {
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
        } finally {
            srcu.readUnlock(idx);
        }
        srcu.synchronizeSrcu();
    }

    /**
     * {@code mmu_notifier_subscriptions_destroy} (from {@code __mmdrop}): the classic list
     * must be empty (a BUG otherwise, reported as an invariant violation).
     */
    public static void destroy(MmStruct mm) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs != null && !subs.list.isEmpty()) {
            mm.kernel().report(new Failure.InvariantViolation("BUG_ON(!hlist_empty) in mmu_notifier_subscriptions_destroy",
                    mm.name() + " freed with subscriptions still registered: " + subs.list, mm.kernel().site()));
        }
        mm.setNotifierSubscriptions(null);
    }
}
