package hmm4j.kernel.mm.hmm2019;

/**
 * {@code struct hmm_update} (v5.2, v5.3): what {@code sync_cpu_device_pagetables} must
 * invalidate. The only event is {@code HMM_UPDATE_INVALIDATE}.
 *
 * @param start     first address, inclusive
 * @param end       last address, exclusive
 * @param blockable whether the callback may sleep ({@code mmu_notifier_range_blockable})
 */
public record HmmUpdate(long start, long end, boolean blockable) {
}
