package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.mm.MmStruct;
import java.util.Objects;

/**
 * {@code struct mmu_notifier_range}: the range [start, end) of {@code mm} being invalidated,
 * why ({@link MmuNotifierEvent}), the flags ({@link #MMU_NOTIFIER_RANGE_BLOCKABLE}) and an
 * opaque owner. Addresses are unsigned; {@link #ULONG_MAX} as the end means "the whole
 * address space" (exit_mmap).
 */
public final class MmuNotifierRange {
    /** {@code MMU_NOTIFIER_RANGE_BLOCKABLE}. */
    public static final int MMU_NOTIFIER_RANGE_BLOCKABLE = 1;
    /** {@code ULONG_MAX}, as an unsigned 64-bit address. */
    public static final long ULONG_MAX = -1L;

    private final MmStruct mm;
    private final long start;
    private final long end;
    private final MmuNotifierEvent event;
    private final Object owner;
    private int flags;

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
     * {@code mmu_notifier_invalidate_range_start}: may sleep; sets BLOCKABLE and calls every
     * subscription's start inside the SRCU read section, bracketed by the lockdep map
     * {@code mmu_notifier_invalidate_range_start}. Pairs with {@link #invalidateRangeEnd}.
     */
    public void invalidateRangeStart() {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        MmuNotifierSubscriptions.lockMap(mm.kernel()).acquire();
        try {
            if (subs != null) {
                setBlockable(true);
                subs.invalidateRangeStart(this);
            }
        } finally {
            MmuNotifierSubscriptions.lockMap(mm.kernel()).release();
        }
    }

    /** {@code mmu_notifier_invalidate_range_end}: after a successful start with this range. */
    public void invalidateRangeEnd() {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null) {
            return;
        }
        MmuNotifierSubscriptions.lockMap(mm.kernel()).acquire();
        try {
            subs.invalidateRangeEnd(this);
        } finally {
            MmuNotifierSubscriptions.lockMap(mm.kernel()).release();
        }
    }

    @Override
    public String toString() {
        return event + " [" + Long.toHexString(start) + ", " + Long.toHexString(end) + ")"
                + (blockable() ? " blockable" : "") + (owner != null ? " owner=" + owner : "");
    }
}
