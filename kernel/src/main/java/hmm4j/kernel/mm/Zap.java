package hmm4j.kernel.mm;

/**
 * Removing mappings from a page table ({@code zap_pte_range}, {@code zap_nonpresent_ptes} and
 * friends in mm/memory.c): every entry of the range is cleared and what it referenced is
 * released:
 * <ul>
 *   <li>a present entry of a page: one mapping and one reference less;</li>
 *   <li>a device-private entry: the same for the device page, and its place leaves the
 *       pgmap's device rmap; the last reference sends the page back to its driver
 *       ({@code page_free}), possibly from here, under the page-table lock;</li>
 *   <li>a device-exclusive entry: the same as the present entry it stands for (the page stays
 *       mapped while exclusive);</li>
 *   <li>a migration entry: nothing of the page (the migration holds it), but a device page's
 *       place leaves its rmap, so that the migration does not come back here;</li>
 *   <li>a swap entry: its slot loses a user.</li>
 * </ul>
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
        if (table.pmdLeafCount() != 0) {
            zapHugePmds(phys, table, start, end);
        }
        table.forEach(start, end, (addr, pte) -> {
            release(phys, table, addr, pte);
            return true;
        });
        table.clearRange(start, end);
    }

    /**
     * {@code zap_huge_pmd} for every PMD leaf in [start, end): releases its pages and makes the
     * PMD none. A leaf only partly in the range is a model bug (the caller splits it first:
     * {@link HugeMemory#splitHugePmdEdges}).
     */
    private static void zapHugePmds(PhysMem phys, PageTable table, long start, long end) {
        for (long haddr = start & Pte.PMD_MASK; haddr < end; haddr += Pte.PMD_SIZE) {
            if (!table.isPmdLeaf(haddr)) {
                continue;
            }
            if (haddr < start || haddr + Pte.PMD_SIZE > end) {
                throw new IllegalStateException("zap of part of a PMD leaf at 0x" + Long.toHexString(haddr));
            }
            long pmd = table.pmdLeaf(haddr);
            Hugetlb pool = Hugetlb.ofOrNull(phys.kernel());
            if (!Pte.isPresent(pmd)) {
                // A device-private PMD (its pages lose their mappings and places) or a PMD
                // migration entry (only the places go): as its 512 entries would.
                for (int i = 0; i < HugeMemory.HPAGE_PMD_NR; i++) {
                    long a = haddr + ((long) i << Pte.PAGE_SHIFT);
                    release(phys, table, a, pmd + ((long) i << Pte.PFN_SHIFT));
                }
            } else if (pool != null && pool.isHugetlbHead(Pte.pfn(pmd))) {
                Hugetlb.releaseMapping(pool, phys, Pte.pfn(pmd));
            } else if (!Pte.isSpecial(pmd)) {
                for (int i = 0; i < HugeMemory.HPAGE_PMD_NR; i++) {
                    Page page = phys.pfnToPage(Pte.pfn(pmd) + i);
                    page.decMapcount();
                    page.put();
                }
            }
            table.clearPmdLeaf(haddr);
        }
    }

    /** Releases what the entry of {@code table} for {@code addr} references; the caller clears it. */
    static void release(PhysMem phys, PageTable table, long addr, long pte) {
        if (Pte.isPresent(pte) && !Pte.isZero(pte) && !Pte.isSpecial(pte) || Pte.isDeviceExclusive(pte)) {
            Page page = phys.pfnToPage(Pte.pfn(pte));
            if (page.pgmap() != null) {
                page.pgmap().rmapRemove(page, table, addr);
            }
            page.decMapcount();
            page.put();
        } else if (Pte.isDevicePrivate(pte)) {
            Page page = phys.pfnToPage(Pte.pfn(pte));
            page.pgmap().rmapRemove(page, table, addr);
            page.decMapcount();
            page.put();
        } else if (Pte.isMigration(pte)) {
            Page page = phys.pfnToPage(Pte.pfn(pte));
            if (page != null && page.pgmap() != null) {
                page.pgmap().rmapRemove(page, table, addr);
            }
        } else if (Pte.isSwap(pte)) {
            SwapSpace.of(phys.kernel()).free(Pte.swapOffset(pte));
        }
    }
}
