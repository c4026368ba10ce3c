package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.MmStruct;
import java.lang.reflect.Method;
import java.util.EnumSet;
import java.util.Set;

/**
 * {@code struct mmu_notifier_ops}: the callbacks of a classic subscription
 * (include/linux/mmu_notifier.h).
 *
 * <p>A driver implements the ops it needs; an op it does not override counts as a NULL op
 * pointer in the kernel's table ({@link #implemented}), which matters: the core calls only
 * implemented ops, warns when a subscription whose start can fail also has an end, and
 * refuses a subscription with both {@code arch_invalidate_secondary_tlbs} and start/end.
 * Every op except {@code alloc_notifier} and {@code free_notifier} is called inside the
 * global notifier SRCU read section.
 */
public interface MmuNotifierOps {

    /** The ops of the kernel's table, for "is this op pointer set". */
    enum Op {
        RELEASE, CLEAR_FLUSH_YOUNG, CLEAR_YOUNG, TEST_YOUNG, INVALIDATE_RANGE_START, INVALIDATE_RANGE_END,
        ARCH_INVALIDATE_SECONDARY_TLBS, ALLOC_NOTIFIER, FREE_NOTIFIER
    }

    /**
     * {@code ->release}: the address space is going away (or the subscription is being
     * unregistered). Called before any page is freed; must tear down secondary mappings
     * and stop creating new ones before returning.
     */
    default void release(MmuNotifier subscription, MmStruct mm) {
    }

    /** {@code ->clear_flush_young}: test and clear accessed bits in [start, end) and flush. */
    default int clearFlushYoung(MmuNotifier subscription, MmStruct mm, long start, long end) {
        return 0;
    }

    /** {@code ->clear_young}: like clear_flush_young, the secondary TLB flush may be skipped. */
    default int clearYoung(MmuNotifier subscription, MmStruct mm, long start, long end) {
        return 0;
    }

    /** {@code ->test_young}: reports whether {@code address} was accessed, without clearing. */
    default int testYoung(MmuNotifier subscription, MmStruct mm, long address) {
        return 0;
    }

    /**
     * {@code ->invalidate_range_start}: returns 0, or {@code -EAGAIN} only for a
     * non-blockable range. May sleep only if the range is blockable. A subscription whose
     * start can fail must not implement {@link #invalidateRangeEnd}.
     */
    default int invalidateRangeStart(MmuNotifier subscription, MmuNotifierRange range) {
        return 0;
    }

    /** {@code ->invalidate_range_end}: pairs with a successful start on the same range. */
    default void invalidateRangeEnd(MmuNotifier subscription, MmuNotifierRange range) {
    }

    /**
     * {@code ->arch_invalidate_secondary_tlbs}: for secondary TLBs sharing the CPU page tables;
     * called under the page-table lock, must not sleep. Exclusive with start/end.
     */
    default void archInvalidateSecondaryTlbs(MmuNotifier subscription, MmStruct mm, long start, long end) {
    }

    /**
     * {@code ->alloc_notifier}: get/put flow only; allocates a subscription for {@code mm}
     * with the mmap lock held for write. Returns the subscription or {@code ERR_PTR}.
     */
    default ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
        throw new UnsupportedOperationException("mmu_notifier_get on ops without ->alloc_notifier");
    }

    /**
     * {@code ->free_notifier}: get/put flow only; called once, from an SRCU callback after
     * the last put, when no op can run any more. Must not sleep.
     */
    default void freeNotifier(MmuNotifier subscription) {
    }

    /** The ops {@code ops} implements (overrides), as the kernel's non-NULL op pointers. */
    static Set<Op> implemented(MmuNotifierOps ops) {
        return Implemented.CACHE.get(ops.getClass());
    }

    /** True if {@code ops} implements {@code op}. */
    static boolean has(MmuNotifierOps ops, Op op) {
        return implemented(ops).contains(op);
    }

    /** Per-class cache of the implemented ops. */
    final class Implemented {
        private static final ClassValue<Set<Op>> CACHE = new ClassValue<>() {
            @Override
            protected Set<Op> computeValue(Class<?> type) {
                EnumSet<Op> set = EnumSet.noneOf(Op.class);
                for (Method m : type.getMethods()) {
                    if (m.getDeclaringClass() == MmuNotifierOps.class || m.isBridge()) {
                        continue;
                    }
                    Op op = switch (m.getName()) {
                        case "release" -> Op.RELEASE;
                        case "clearFlushYoung" -> Op.CLEAR_FLUSH_YOUNG;
                        case "clearYoung" -> Op.CLEAR_YOUNG;
                        case "testYoung" -> Op.TEST_YOUNG;
                        case "invalidateRangeStart" -> Op.INVALIDATE_RANGE_START;
                        case "invalidateRangeEnd" -> Op.INVALIDATE_RANGE_END;
                        case "archInvalidateSecondaryTlbs" -> Op.ARCH_INVALIDATE_SECONDARY_TLBS;
                        case "allocNotifier" -> Op.ALLOC_NOTIFIER;
                        case "freeNotifier" -> Op.FREE_NOTIFIER;
                        default -> null;
                    };
                    if (op != null) {
                        set.add(op);
                    }
                }
                return Set.copyOf(set);
            }
        };

        private Implemented() {
        }
    }
}
