package hmm4j.kernel.mm.hmm2019;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.mm.notifier.MmuNotifierSubscriptions;
import hmm4j.sim.sync.SrcuStruct;

/**
 * The non-blocking invalidation of the v5.2/v5.3 notifier core, as the OOM reaper used it:
 * {@code mmu_notifier_invalidate_range_start_nonblock} called every subscription's start
 * and returned the last error <em>without</em> calling any end (the unwinding of later
 * kernels, which the model's {@link MmuNotifierRange} follows, came after 5.3), so a
 * subscription whose start failed half-way had to undo itself (the point of P12).
 *
 * <p>Only the classic list is walked (the 2019 struct hmm is a classic subscription), inside
 * one read section of the notifier SRCU domain.
 */
public final class Hmm2019Core {
    private Hmm2019Core() {
    }

    /**
     * {@code mmu_notifier_invalidate_range_start_nonblock} of v5.3 over [start, end) of
     * {@code mm}, for the OOM reaper: 0, or the last {@code -EAGAIN}, after which the caller
     * skips the range and calls no end.
     */
    public static int invalidateRangeStartNonblock(MmStruct mm, long start, long end) {
        MmuNotifierRange range = range(mm, start, end);
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null) {
            return 0;
        }
        SrcuStruct srcu = MmuNotifierSubscriptions.srcu(mm.kernel());
        int idx = srcu.readLock();
        try {
            int ret = 0;
            for (MmuNotifier sub : subs.subscriptions()) {
                if (MmuNotifierOps.has(sub.ops(), MmuNotifierOps.Op.INVALIDATE_RANGE_START)) {
                    int r = sub.ops().invalidateRangeStart(sub, range);
                    if (r != 0) {
                        ret = r;
                    }
                }
            }
            return ret;
        } finally {
            srcu.readUnlock(idx);
        }
    }

    /** {@code mmu_notifier_invalidate_range_end} after a successful non-blocking start. */
    public static void invalidateRangeEndNonblock(MmStruct mm, long start, long end) {
        MmuNotifierRange range = range(mm, start, end);
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null) {
            return;
        }
        SrcuStruct srcu = MmuNotifierSubscriptions.srcu(mm.kernel());
        int idx = srcu.readLock();
        try {
            for (MmuNotifier sub : subs.subscriptions()) {
                if (MmuNotifierOps.has(sub.ops(), MmuNotifierOps.Op.INVALIDATE_RANGE_END)) {
                    sub.ops().invalidateRangeEnd(sub, range);
                }
            }
        } finally {
            srcu.readUnlock(idx);
        }
    }

    private static MmuNotifierRange range(MmStruct mm, long start, long end) {
        return new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, start, end);
    }
}
