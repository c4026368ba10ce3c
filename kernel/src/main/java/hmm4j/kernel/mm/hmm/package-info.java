/**
 * Heterogeneous memory management: {@code hmm_range_fault}, following {@code mm/hmm.c} and
 * {@code include/linux/hmm.h} of current mainline (≈v6.16: the {@code hmm_pfns} encoding
 * with the sticky DMA bits and the order field at bit 53) and mm/hmm.c.
 *
 * <p>{@link hmm4j.kernel.mm.hmm.HmmRange} is {@code struct hmm_range};
 * {@link hmm4j.kernel.mm.hmm.HmmPfn} holds {@code enum hmm_pfn_flags} and the
 * {@code hmm_pfn_to_*} helpers; {@link hmm4j.kernel.mm.hmm.Hmm#hmmRangeFault} is the outer
 * collision-checking loop and the package-private {@code HmmVmaWalk} the page walk with its
 * per-entry rules. A driver uses them inside the collision-retry loop of an
 * {@link hmm4j.kernel.mm.notifier.MmuIntervalNotifier} (Documentation/mm/hmm.rst; the loop is shown
 * on {@code hmmRangeFault}). Not modelled yet: huge pages (THP, PUD leaves, hugetlb) and the
 * {@code hmm_dma_map_*} helpers.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.mm.hmm;
