package hmm4j.kernel.mm;

/**
 * Removing mappings from a page table ({@code zap_pte_range} and friends in mm/memory.c):
 * every entry of the range is cleared and what it referenced is released — a mapped page
 * loses a mapping and a reference, a swap entry frees its slot.
 *
 * <p>Locking: the caller holds the mm's page-table lock (or is {@code exit_mmap}, which
 * owns the dying address space) and has already issued the matching
 * {@code invalidate_range_start}.
 */
final class Zap {
    private Zap() {
    }

    /** Clears [start, end) of {@code table} and releases what the entries referenced. */
    static void zapRange(PhysMem phys, PageTable table, long start, long end) {
        table.forEach(start, end, (addr, pte) -> {
            release(phys, pte);
            return true;
        });
        table.clearRange(start, end);
    }

    /** Releases what one entry references (the entry itself is cleared by the caller). */
    static void release(PhysMem phys, long pte) {
        if (Pte.isPresent(pte) && !Pte.isZero(pte) && !Pte.isSpecial(pte)) {
            Page page = phys.pfnToPage(Pte.pfn(pte));
            page.decMapcount();
            page.put();
        } else if (Pte.isSwap(pte)) {
            SwapSpace.of(phys.kernel()).free(Pte.swapOffset(pte));
        }
    }
}
