package hmm4j.kernel.mm;

import hmm4j.sim.sync.SpinLock;

/**
 * {@code MADV_COLD} and {@code MADV_PAGEOUT} (mm/madvise.c, {@code madvise_cold},
 * {@code madvise_pageout}, {@code madvise_cold_or_pageout_pte_range}, {@code can_madv_lru_vma}).
 *
 * <p>Overview. Both walk the present entries of one VMA piece and look at the pages mapped only
 * there (a page shared with another mapping is left alone, as the kernel's
 * {@code folio_mapcount != folio_nr_pages} test does). {@code MADV_COLD} clears the accessed bit
 * of each such entry with {@code ptep_test_and_clear_young}, which tells no notifier: it sends
 * no invalidation at all (and deactivates the page, which the model, without an LRU, does not
 * keep). {@code MADV_PAGEOUT} hands those pages to reclaim ({@code reclaim_pages} →
 * {@code shrink_folio_list}, with references ignored), which is {@link Vmscan}'s: each page
 * reclaimed costs one {@code MMU_NOTIFY_CLEAR} of exactly that page from
 * {@code try_to_unmap_one}, with the folio lock and the anon_vma rwsem (read) held.
 *
 * <p>Locking: {@link Madvise#madvise} holds the mmap lock for read (the kernel's
 * {@code MADVISE_MMAP_READ_LOCK} for these two), so the reclaim's invalidations run with it
 * held too.
 *
 * <p>Differences from the kernel: the model's reclaim takes anonymous pages only (page-cache
 * pages are left mapped, where the kernel writes them back and unmaps them through
 * {@code i_mmap_rwsem}); a PMD leaf wholly in the range is aged whole by {@code MADV_COLD} and
 * reclaimed whole by {@code MADV_PAGEOUT} (the kernel splits a partly covered large folio, the
 * model's {@link Vmscan} skips one).
 */
final class MadviseCold {

    private MadviseCold() {
    }

    /** {@code madvise_cold} / {@code madvise_pageout} of [start, end) of {@code vma}; mmap lock held. */
    static int coldOrPageoutSingleVma(MmStruct mm, Vma vma, long start, long end, boolean pageout) {
        if (vma.hasAny(VmFlags.VM_LOCKED | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB)) {
            return -Errno.EINVAL;
        }
        if (pageout) {
            Vmscan.reclaimAnonLocked(mm, start, end);
            return 0;
        }
        PhysMem phys = PhysMem.of(mm.kernel());
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("madvise_cold");
            PteList entries = PteList.collect(pt, start, end);
            for (int i = 0; i < entries.size(); i++) {
                long addr = entries.addr(i);
                long pte = entries.pte(i);
                if (Pte.isHuge(pte)) {
                    long haddr = addr & Pte.PMD_MASK;
                    if (haddr >= start && haddr + Pte.PMD_SIZE <= end && Pte.isPresent(pt.pmdLeaf(haddr))) {
                        pt.updatePmdLeaf(haddr, Pte::mkOld);
                    }
                    while (i + 1 < entries.size() && entries.addr(i + 1) < haddr + Pte.PMD_SIZE) {
                        i++;
                    }
                    continue;
                }
                if (!Pte.isPresent(pte) || Pte.isSpecial(pte) || Pte.isZero(pte) || !Pte.isYoung(pte)) {
                    continue;
                }
                Page page = phys.pfnToPage(Pte.pfn(pte));
                if (page != null && page.pgmap() == null && page.mapcount() == 1) {
                    pt.set(addr, Pte.mkOld(pte));
                }
            }
        } finally {
            ptl.unlock();
        }
        return 0;
    }
}
