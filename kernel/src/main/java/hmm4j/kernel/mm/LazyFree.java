package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.sync.SpinLock;

/**
 * {@code MADV_FREE} (mm/madvise.c, {@code madvise_free_single_vma},
 * {@code madvise_free_pte_range}, {@code madvise_free_huge_pmd}) and what reclaim does with
 * a lazily freed page ({@code try_to_unmap_one}'s lazyfree branch, mm/rmap.c).
 *
 * <p>Overview. In an anonymous private VMA, every present anonymous page mapped only here
 * becomes lazily freed: its entry loses the dirty and accessed bits, the page its dirty flag,
 * and it is marked {@link #PG_LAZYFREE} (the kernel clears {@code PG_swapbacked}). Its contents
 * stay until reclaim: a clean lazily freed page is then discarded (its entry becomes none, no
 * swap slot), so a later read sees zeros; a page written again in between has a dirty entry
 * and is kept (and loses the mark). A swap entry in the range is freed at once and its entry
 * cleared. Zero pages, device entries and pages shared with another mapping are left alone.
 * A PMD leaf wholly in the range is treated as one (the leaf loses dirty and accessed); a leaf
 * only partly in the range is split first.
 *
 * <p>Notifiers. One {@code MMU_NOTIFY_CLEAR} invalidation over each VMA piece, around the walk
 * (a split nests its own CLEAR of the 2 MiB inside it), whether or not anything changes.
 *
 * <p>Differences from the kernel: the walk does not stop at a pending signal; the lazyfree
 * pages are not moved to the inactive file LRU (the model has no LRU).
 */
public final class LazyFree {
    /**
     * The model's mark of a lazily freed anonymous page: a page flag bit above those
     * {@link Page} names, standing for the kernel's "anonymous without {@code PG_swapbacked}".
     */
    public static final int PG_LAZYFREE = 1 << 16;

    private LazyFree() {
    }

    /** {@code madvise_free_single_vma} for [start, end) of {@code vma}; mmap lock held. */
    static int madviseFreeSingleVma(MmStruct mm, Vma vma, long start, long end) {
        if (vma.hasAny(VmFlags.VM_LOCKED | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB) || !vma.isAnonymous()) {
            return -Errno.EINVAL;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, start, end);
        range.invalidateRangeStart();
        HugeMemory.splitHugePmdEdges(mm, start, end);
        PhysMem phys = PhysMem.of(mm.kernel());
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("madvise_free");
            PteList entries = PteList.collect(pt, start, end);
            for (int i = 0; i < entries.size(); i++) {
                long addr = entries.addr(i);
                long pte = entries.pte(i);
                if (Pte.isHuge(pte)) {
                    freeHugePmd(phys, pt, addr);
                    while (i + 1 < entries.size() && entries.addr(i + 1) < addr + Pte.PMD_SIZE) {
                        i++;
                    }
                } else if (Pte.isSwap(pte)) {
                    SwapSpace.of(mm.kernel()).free(Pte.swapOffset(pte));
                    pt.set(addr, 0);
                } else if (Pte.isPresent(pte) && !Pte.isSpecial(pte)) {
                    Page page = phys.pfnToPage(Pte.pfn(pte));
                    if (page.isAnon() && page.mapcount() == 1) {
                        markLazyfree(page);
                        pt.set(addr, Pte.mkOld(Pte.mkClean(pte)));
                    }
                }
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
        return 0;
    }

    /** {@code madvise_free_huge_pmd} of a whole leaf: every page lazily freed if the THP is mapped once. */
    private static void freeHugePmd(PhysMem phys, PageTable pt, long haddr) {
        long head = Pte.pfn(pt.pmdLeaf(haddr));
        if (!Pte.isPresent(pt.pmdLeaf(haddr)) || Pte.isSpecial(pt.pmdLeaf(haddr))) {
            return;
        }
        for (int i = 0; i < HugeMemory.HPAGE_PMD_NR; i++) {
            if (phys.pfnToPage(head + i).mapcount() != 1) {
                return;
            }
        }
        for (int i = 0; i < HugeMemory.HPAGE_PMD_NR; i++) {
            markLazyfree(phys.pfnToPage(head + i));
        }
        pt.updatePmdLeaf(haddr, e -> Pte.mkOld(Pte.mkClean(e)));
    }

    private static void markLazyfree(Page page) {
        page.clearFlag(Page.PG_DIRTY);
        page.setFlag(PG_LAZYFREE);
    }

    /**
     * Reclaim's view of a lazily freed page mapped by {@code pte}: true when it may be
     * discarded (clean since the advice). A page written again loses the mark here and is
     * then reclaimed as any anonymous page would be.
     */
    static boolean discardable(Page page, long pte) {
        if (!page.testFlag(PG_LAZYFREE)) {
            return false;
        }
        if (Pte.isDirty(pte) || page.isDirty()) {
            page.clearFlag(PG_LAZYFREE);
            return false;
        }
        return true;
    }
}
