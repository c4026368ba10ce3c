package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.mm.MmStruct;

/**
 * {@code struct mmu_notifier_ops}: the callbacks of a classic subscription. Every op is
 * called inside the global notifier SRCU read section. Defaults do nothing and succeed.
 */
public interface MmuNotifierOps {

    /**
     * {@code ->release}: the address space is going away (or the subscription is being
     * unregistered). Called before any page is freed; must tear down secondary mappings
     * and stop creating new ones before returning.
     */
    default void release(MmuNotifier subscription, MmStruct mm) {
    }

    /**
     * {@code ->invalidate_range_start}: returns 0, or {@code -EAGAIN} only for a
     * non-blockable range. May sleep only if the range is blockable.
     */
    default int invalidateRangeStart(MmuNotifier subscription, MmuNotifierRange range) {
        return 0;
    }

    /** {@code ->invalidate_range_end}: pairs with a successful start on the same range. */
    default void invalidateRangeEnd(MmuNotifier subscription, MmuNotifierRange range) {
    }
}
