package hmm4j.kernel.mm.hmm;

import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;

/**
 * The {@code hmm_pfns[]} encoding of include/linux/hmm.h ({@code enum hmm_pfn_flags} and the
 * {@code hmm_pfn_to_*} helpers): one {@code long} per page, a request on input and a pfn
 * with flags on output.
 *
 * <p>Overview. The version followed is the newest mainline one (≈v6.16, with the HMM DMA
 * helpers), include/linux/hmm.h:
 * <pre>
 *  63    62    61     60         59      58         57..53   52 .............. 0
 * +-----+-----+-----+----------+-------+----------+--------+--------------------+
 * |VALID|WRITE|ERROR|DMA_MAPPED|P2PDMA |P2PDMA_BUS| order  | pfn                |
 * +-----+-----+-----+----------+-------+----------+--------+--------------------+
 *  REQ_  REQ_        \________ sticky (in → out) _______/
 *  FAULT WRITE
 * </pre>
 * On input only {@link #HMM_PFN_REQ_FAULT} and {@link #HMM_PFN_REQ_WRITE} (the same bits as
 * VALID and WRITE) are read, through {@code pfn_flags_mask}; the three sticky bits belong to
 * the caller's DMA bookkeeping and survive every write of the entry ({@link #writeOutput}).
 * An output of exactly 0 (sticky bits aside) means "not present now, but a request with
 * REQ_FAULT could make it present"; {@link #HMM_PFN_ERROR} means it never can. The order
 * field is {@code log2} of the mapping size in pages: always 0 in this model, which has no
 * huge mappings yet.
 *
 * <p>Differences from the kernel: none in the encoding. Kernels before ≈v6.16 had no sticky
 * bits and the order field at bit 56 ({@code HMM_PFN_FLAGS = 0xFF << 56}); that layout is
 * not modelled.
 */
public final class HmmPfn {

    /** Output: the pfn is valid and at least readable. Input: {@link #HMM_PFN_REQ_FAULT}. */
    public static final long HMM_PFN_VALID = 1L << 63;
    /** Output: writable (only with VALID). Input: {@link #HMM_PFN_REQ_WRITE}. */
    public static final long HMM_PFN_WRITE = 1L << 62;
    /** Output: the page can never be accessed (no VMA, an IO/PFNMAP/unreadable VMA, a special mapping). */
    public static final long HMM_PFN_ERROR = 1L << 61;
    /** Sticky: the driver has a DMA mapping for this entry ({@code hmm_dma_map_pfn}). */
    public static final long HMM_PFN_DMA_MAPPED = 1L << 60;
    /** Sticky: the DMA mapping is peer-to-peer. */
    public static final long HMM_PFN_P2PDMA = 1L << 59;
    /** Sticky: the peer-to-peer mapping uses a bus address. */
    public static final long HMM_PFN_P2PDMA_BUS = 1L << 58;
    /** First bit of the 5-bit order field; everything from here up is flags. */
    public static final int HMM_PFN_ORDER_SHIFT = 53;
    /** Input: the output must be VALID or the call fails. */
    public static final long HMM_PFN_REQ_FAULT = HMM_PFN_VALID;
    /** Input: the output must be WRITE or the call fails (meaningful only with REQ_FAULT). */
    public static final long HMM_PFN_REQ_WRITE = HMM_PFN_WRITE;
    /** Every bit at or above the order shift: what is removed to get the pfn. */
    public static final long HMM_PFN_FLAGS = ~((1L << HMM_PFN_ORDER_SHIFT) - 1);
    /** The sticky bits, carried from input to output by every write ({@code HMM_PFN_INOUT_FLAGS}). */
    public static final long HMM_PFN_INOUT_FLAGS = HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS;

    private static final long ORDER_MASK = 0x1F;

    private HmmPfn() {
    }

    /**
     * The pfn bits of an entry ({@code x & ~HMM_PFN_FLAGS}). Meaningful only when the entry
     * is VALID.
     */
    public static long pfn(long hmmPfn) {
        return hmmPfn & ~HMM_PFN_FLAGS;
    }

    /**
     * {@code hmm_pfn_to_page}: the page an output entry names. The caller has tested
     * {@link #HMM_PFN_VALID} and holds its driver lock after a successful
     * {@code mmu_interval_read_retry}; otherwise the page may already belong to
     * someone else. Returns null only for a pfn the machine never created.
     */
    public static Page hmmPfnToPage(PhysMem phys, long hmmPfn) {
        return phys.pfnToPage(pfn(hmmPfn));
    }

    /** {@code hmm_pfn_to_phys}: the physical address of the page of a VALID entry. */
    public static long hmmPfnToPhys(long hmmPfn) {
        return pfn(hmmPfn) << Pte.PAGE_SHIFT;
    }

    /**
     * {@code hmm_pfn_to_map_order}: log2 of the number of pages of the CPU mapping the entry
     * belongs to. Every entry inside a huge mapping carries the same order, and the mapping
     * starts at the order-aligned address: 9 for a PMD-mapped THP, 0 for a base page.
     */
    public static int hmmPfnToMapOrder(long hmmPfn) {
        return (int) ((hmmPfn >>> HMM_PFN_ORDER_SHIFT) & ORDER_MASK);
    }

    /** {@code hmm_pfn_flags_order}: the order field holding {@code order}. */
    public static long hmmPfnFlagsOrder(int order) {
        return ((long) order & ORDER_MASK) << HMM_PFN_ORDER_SHIFT;
    }

    /**
     * The output write rule: the new value of an entry that held {@code old} and gets the
     * output {@code value} — the sticky bits of {@code old} are kept, everything else is
     * replaced.
     */
    public static long writeOutput(long old, long value) {
        return (old & HMM_PFN_INOUT_FLAGS) | value;
    }

    /** A readable rendering for assertion messages, e.g. {@code V W pfn=0x2a} or {@code ERROR}. */
    public static String toString(long hmmPfn) {
        StringBuilder sb = new StringBuilder(40);
        if ((hmmPfn & HMM_PFN_VALID) != 0) sb.append("V ");
        if ((hmmPfn & HMM_PFN_WRITE) != 0) sb.append("W ");
        if ((hmmPfn & HMM_PFN_ERROR) != 0) sb.append("ERROR ");
        if ((hmmPfn & HMM_PFN_DMA_MAPPED) != 0) sb.append("DMA_MAPPED ");
        if ((hmmPfn & HMM_PFN_P2PDMA) != 0) sb.append("P2PDMA ");
        if ((hmmPfn & HMM_PFN_P2PDMA_BUS) != 0) sb.append("P2PDMA_BUS ");
        int order = hmmPfnToMapOrder(hmmPfn);
        if (order != 0) sb.append("order=").append(order).append(' ');
        sb.append("pfn=0x").append(Long.toHexString(pfn(hmmPfn)));
        return sb.toString();
    }
}
