package hmm4j.kernel.mm.notifier;

/**
 * {@code struct mmu_interval_notifier_ops}: the one callback of an interval subscription.
 */
@FunctionalInterface
public interface MmuIntervalNotifierOps {

    /**
     * {@code ->invalidate}: the CPU page table is about to change in {@code range}, which
     * overlaps the subscription. On return the driver must no longer use any device mapping
     * of the intersection. Called with no notifier lock held, inside the invalidate
     * section; may sleep only if {@code range.blockable()}.
     *
     * <p>The driver takes its own lock (the one its fault path holds around
     * {@link MmuIntervalNotifier#mmuIntervalReadRetry}), calls
     * {@link MmuIntervalNotifier#mmuIntervalSetSeq}{@code (curSeq)}, tears down its mappings
     * and unlocks. It must not call {@link MmuIntervalNotifier#mmuIntervalNotifierRemove}.
     *
     * @param curSeq the odd sequence value to pass to {@code mmu_interval_set_seq}
     * @return true; false only if the range is non-blockable and the driver would have to
     *         sleep (the invalidation then fails with {@code -EAGAIN})
     */
    boolean invalidate(MmuIntervalNotifier subscription, MmuNotifierRange range, long curSeq);
}
