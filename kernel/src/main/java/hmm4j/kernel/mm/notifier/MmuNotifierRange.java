package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.devmap.DeviceMapChecker;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.LockMap;
import java.util.Objects;

/**
 * {@code struct mmu_notifier_range}: the range [start, end) of {@code mm} being invalidated,
 * why ({@link MmuNotifierEvent}), the flags ({@link #MMU_NOTIFIER_RANGE_BLOCKABLE}) and an
 * opaque owner. Addresses are unsigned; {@link #ULONG_MAX} as the end means "the whole
 * address space" (exit_mmap).
 *
 * <p>Overview: the wrappers of {@code include/linux/mmu_notifier.h} live here:
 * {@link #invalidateRangeStart} (may sleep, forces BLOCKABLE, cannot fail),
 * {@link #invalidateRangeStartNonblock} (clears BLOCKABLE, may return {@code -EAGAIN}) and
 * {@link #invalidateRangeEnd}; each is bracketed by the lockdep map
 * {@code mmu_notifier_invalidate_range_start} so that a lock taken inside a callback is
 * ordered against every lock held around an invalidation. The core algorithm is in
 * {@link MmuNotifierSubscriptions}.
 *
 * <p>Every start and end is reported to {@link DeviceMapChecker}, which judges the device
 * maps drivers declare once the invalidation has ended.
 *
 * <p>The pairing rule (rule notifier.end-pairs-start) is checked on the range object: an end without a
 * successful start, an end after a start that failed with {@code -EAGAIN}, or a second start
 * before the end is reported as an invariant violation at the call.
 */
public final class MmuNotifierRange {
    /** {@code MMU_NOTIFIER_RANGE_BLOCKABLE}. */
    public static final int MMU_NOTIFIER_RANGE_BLOCKABLE = 1;
    /** {@code ULONG_MAX}, as an unsigned 64-bit address. */
    public static final long ULONG_MAX = -1L;

    /** Where the range object is in its start/end pairing. */
    private enum Pairing { IDLE, STARTED, FAILED }

    private final MmStruct mm;
    private final long start;
    private final long end;
    private final MmuNotifierEvent event;
    private final Object owner;
    private volatile int flags;
    private volatile Pairing pairing = Pairing.IDLE;

    /** {@code mmu_notifier_range_init}. */
    public MmuNotifierRange(MmuNotifierEvent event, int flags, MmStruct mm, long start, long end) {
        this(event, flags, mm, start, end, null);
    }

    /** {@code mmu_notifier_range_init_owner}. */
    public MmuNotifierRange(MmuNotifierEvent event, int flags, MmStruct mm, long start, long end, Object owner) {
        this.event = Objects.requireNonNull(event);
        this.flags = flags;
        this.mm = Objects.requireNonNull(mm);
        this.start = start;
        this.end = end;
        this.owner = owner;
    }

    public MmStruct mm() { return mm; }

    public long start() { return start; }

    /** Exclusive end (unsigned). */
    public long end() { return end; }

    public MmuNotifierEvent event() { return event; }

    /** The owner ({@code range->owner}): the driver that caused a MIGRATE or EXCLUSIVE event. */
    public Object owner() { return owner; }

    public int flags() { return flags; }

    /** {@code mmu_notifier_range_blockable}. */
    public boolean blockable() {
        return (flags & MMU_NOTIFIER_RANGE_BLOCKABLE) != 0;
    }

    void setBlockable(boolean blockable) {
        flags = blockable ? flags | MMU_NOTIFIER_RANGE_BLOCKABLE : flags & ~MMU_NOTIFIER_RANGE_BLOCKABLE;
    }

    /** True if [start, end) overlaps [a, b) (unsigned). */
    public boolean overlaps(long a, long b) {
        return Long.compareUnsigned(start, b) < 0 && Long.compareUnsigned(a, end) < 0;
    }

    /**
     * {@code mmu_notifier_invalidate_range_start}: may sleep; sets BLOCKABLE and runs the
     * core start (interval subscriptions first, then the classic list inside the SRCU read
     * section), bracketed by the lockdep map. Pairs with {@link #invalidateRangeEnd}.
     */
    public void invalidateRangeStart() {
        Kernel k = mm.kernel();
        k.syncObserver().mightSleep(k.current(), "mmu_notifier_invalidate_range_start");
        beginPairing();
        DeviceMapChecker.invalidationStarted(this);
        LockMap map = MmuNotifierSubscriptions.lockMap(k);
        map.acquire();
        try {
            MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
            if (subs != null) {
                k.note(event.startNote());
                setBlockable(true);
                subs.invalidateRangeStart(this);
            }
        } finally {
            map.release();
        }
    }

    /**
     * {@code mmu_notifier_invalidate_range_start_nonblock} (the OOM reaper's variant):
     * clears BLOCKABLE and runs the core start, in which callbacks must not sleep.
     *
     * @return 0, or {@code -EAGAIN}: then the caller must not change the PTEs of the range
     *         and must not call {@link #invalidateRangeEnd}
     */
    public int invalidateRangeStartNonblock() {
        Kernel k = mm.kernel();
        beginPairing();
        DeviceMapChecker.invalidationStarted(this);
        int ret = 0;
        LockMap map = MmuNotifierSubscriptions.lockMap(k);
        map.acquire();
        try {
            MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
            if (subs != null) {
                k.note(event.startNote());
                k.note("non-blockable section");
                setBlockable(false);
                ret = subs.invalidateRangeStart(this);
            }
        } finally {
            map.release();
        }
        if (ret != 0) {
            pairing = Pairing.FAILED;
            MmuNotifierSubscriptions.sectionDelta(mm, -1);
            DeviceMapChecker.invalidationAbandoned(this);
        }
        return ret;
    }

    /** {@code mmu_notifier_invalidate_range_end}: after a successful start with this range. */
    public void invalidateRangeEnd() {
        Kernel k = mm.kernel();
        Pairing was = pairing;
        if (was != Pairing.STARTED) {
            k.report(new Failure.InvariantViolation(KernelRules.END_PAIRS_START,
                    "invalidate_range_end on " + this + (was == Pairing.FAILED
                            ? " whose non-blocking start failed with -EAGAIN" : " that was not started"), k.site()));
        }
        if (was == Pairing.STARTED) {
            MmuNotifierSubscriptions.sectionDelta(mm, -1);
        }
        pairing = Pairing.IDLE;
        if (blockable()) {
            k.syncObserver().mightSleep(k.current(), "mmu_notifier_invalidate_range_end");
        }
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs != null) {
            k.note(event.endNote());
            LockMap map = MmuNotifierSubscriptions.lockMap(k);
            map.acquire();
            try {
                subs.invalidateRangeEnd(this);
            } finally {
                map.release();
            }
        }
        DeviceMapChecker.invalidationEnded(this);
    }

    private void beginPairing() {
        if (pairing == Pairing.STARTED) {
            Kernel k = mm.kernel();
            k.report(new Failure.InvariantViolation(KernelRules.END_PAIRS_START,
                    "invalidate_range_start on " + this + " which is already started and not ended", k.site()));
        }
        pairing = Pairing.STARTED;
        MmuNotifierSubscriptions.sectionDelta(mm, +1);
    }

    @Override
    public String toString() {
        return event + " [" + Long.toHexString(start) + ", " + Long.toHexString(end) + ")"
                + (blockable() ? " blockable" : "") + (owner != null ? " owner=" + owner : "");
    }
}
