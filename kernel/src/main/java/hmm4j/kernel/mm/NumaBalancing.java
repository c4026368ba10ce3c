package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.sync.SpinLock;

/**
 * Automatic NUMA balancing's scanner: {@code task_numa_work} (kernel/sched/fair.c) marking the
 * pages of a task's address space with NUMA hinting entries through {@code change_prot_numa}
 * (mm/mempolicy.c) → {@code change_protection} with {@code MM_CP_PROT_NUMA} (mm/mprotect.c).
 * The hinting fault that takes the mark off is {@code do_numa_page} ({@link Fault}).
 *
 * <p>Overview. {@link #taskNumaWork} runs in the task whose mm it scans (the kernel runs it as
 * task work on the way back to user space). It takes the mmap lock for read with a trylock and
 * gives up at once if that fails. Each VMA that may be migrated and is accessible
 * ({@code vma_migratable}, not hugetlb, not {@code VM_MIXEDMAP}, not a read-only file mapping)
 * gets {@link #changeProtNuma} over its part of the scan window: every present entry of a
 * normal page (not the zero page, not special, not an entry that is already a hinting entry,
 * and one {@link #folioCanMapProtNuma} accepts: not KSM, not ZONE_DEVICE, not shared with
 * another mapping of a COW VMA, not maybe DMA-pinned) becomes {@link Pte#mkProtNone prot-none}
 * and read-only; the VMA keeps its protection. A PMD-mapped THP the window covers whole is
 * marked whole, staying one PMD ({@link HugeMemory#changeHugePmdProtNuma},
 * {@code change_huge_pmd}; the huge zero page is skipped); one it covers in part is split first
 * and only its covered PTEs are marked. A later CPU access takes a hinting fault that makes the
 * entry accessible again ({@code do_numa_page}: writable in a shared writable VMA, or if
 * {@code can_change_pte_writable} allows, else read-only and a write then takes the write path;
 * {@code do_huge_pmd_numa_page}: the whole leaf, writable if {@code can_change_pmd_writable}),
 * sending no invalidation; a device access must fault through {@code hmm_range_fault}, which
 * faults it in the same way.
 *
 * <p>Notifiers. One {@code MMU_NOTIFY_PROTECTION_VMA} invalidation, owner none, blockable,
 * per VMA piece that has any page table, over the piece, around its entry changes, outside the
 * page-table lock (the CLEAR of a partly covered THP's split nests inside it, as in
 * {@code change_pmd_range}); as for {@code mprotect}, a driver must drop (or re-validate) its
 * device entries of the range: a device entry of a page whose CPU entry is a hinting entry
 * names no accessible page.
 *
 * <p>Locking: the mmap lock for read (trylock), then per piece the notifier start, the
 * page-table lock, the notifier end. The caller is a task of the mm (it holds the
 * {@code mm_users} pin of its task).
 *
 * <p>Differences from the kernel: one call scans the whole window given (the kernel scans
 * {@code numa_balancing_scan_size_mb} at a time from {@code mm->numa_scan_offset}, rate-limited
 * by {@code numa_next_scan} and per-VMA access history); the kernel starts the invalidation
 * lazily per upper-level table span ({@code change_pud_range}), the model once per VMA piece
 * with a populated entry (a superset of the kernel's ranges). The model has one node: the kernel
 * skips pages already on the node of a single-threaded task and migrates misplaced pages from
 * the hinting fault ({@code migrate_misplaced_folio}); the model marks every eligible page and
 * never migrates from the hinting fault (ordinary migration is {@code MigratePages}).
 */
public final class NumaBalancing {

    private NumaBalancing() {
    }

    /**
     * {@code task_numa_work} over [{@code start}, {@code end}) of {@code mm}: see the class
     * comment. May sleep.
     *
     * @return the number of entries made hinting entries, or -1 if {@code mmap_read_trylock}
     *         failed (nothing was done)
     */
    public static long taskNumaWork(MmStruct mm, long start, long end) {
        if (!mm.mmapReadTrylock()) {
            return -1;
        }
        try {
            long updated = 0;
            for (Vma vma : mm.vmas("task_numa_work").intersecting(start, end)) {
                if (!scannable(vma)) {
                    continue;
                }
                updated += changeProtNuma(mm, vma, Math.max(start, vma.vmStart()), Math.min(end, vma.vmEnd()));
            }
            return updated;
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** The VMAs {@code task_numa_work} leaves alone. */
    private static boolean scannable(Vma vma) {
        if (vma.hasAny(VmFlags.VM_IO | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB | VmFlags.VM_MIXEDMAP)) {
            return false;
        }
        if (!vma.isAccessible()) {
            return false;
        }
        boolean file = vma.file() != null || vma.vmFile() != null;
        return !(file && (vma.flags() & (VmFlags.VM_READ | VmFlags.VM_WRITE)) == VmFlags.VM_READ);
    }

    /**
     * {@code change_prot_numa} of [{@code start}, {@code end}) inside {@code vma}: one
     * PROTECTION_VMA invalidation around making its eligible entries hinting entries, if the
     * piece has any entry. The mmap lock is held (asserted).
     *
     * @return the number of entries changed
     */
    public static long changeProtNuma(MmStruct mm, Vma vma, long start, long end) {
        mm.mmapAssertLocked();
        PageTable pt = mm.pgd("change_prot_numa");
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        boolean populated = PteList.collect(pt, start, end).size() > 0;
        ptl.unlock();
        if (!populated) {
            return 0;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA, 0, mm, start, end);
        range.invalidateRangeStart();
        // change_pmd_range: a leaf the range covers only in part is split first (its own CLEAR,
        // nested in this range) and its covered PTEs are marked below; a covered leaf is
        // changed whole (change_huge_pmd).
        HugeMemory.splitHugePmdEdges(mm, start, end);
        long updated = 0;
        PhysMem phys = PhysMem.of(mm.kernel());
        ptl.lock();
        try {
            PteList entries = PteList.collect(pt, start, end);
            for (int i = 0; i < entries.size(); i++) {
                long addr = entries.addr(i);
                long pte = entries.pte(i);
                if (Pte.isHuge(pte)) {
                    long haddr = addr & Pte.PMD_MASK;
                    // A leaf the edges' split did not see (a THP fault at a none PMD since, under
                    // the mmap read lock as ours) is left unmarked unless the range covers it.
                    if (haddr >= start && haddr + Pte.PMD_SIZE <= end) {
                        updated += HugeMemory.changeHugePmdProtNuma(mm, phys, pt, vma, haddr);
                    }
                    while (i + 1 < entries.size() && entries.addr(i + 1) < haddr + Pte.PMD_SIZE) {
                        i++;
                    }
                    continue;
                }
                if (Pte.isPresent(pte) && !Pte.isProtNone(pte) && !Pte.isSpecial(pte) && !Pte.isZero(pte)
                        && folioCanMapProtNuma(phys, vma, Pte.pfn(pte), 1)) {
                    pt.set(addr, Pte.mkProtNone(Pte.wrprotect(pte)));
                    updated++;
                }
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
        return updated;
    }

    /**
     * {@code folio_can_map_prot_numa} (mm/mempolicy.c; in current mainline shared by
     * {@code change_pte_range} and {@code change_huge_pmd}) for the folio of {@code nr} pages
     * from {@code pfn}: false for a page without a struct page, a ZONE_DEVICE page, a KSM page,
     * a folio of a copy-on-write VMA that may be mapped elsewhere too (a page of it mapped more
     * than once), and a folio that may be DMA-pinned. Page-table lock held.
     */
    static boolean folioCanMapProtNuma(PhysMem phys, Vma vma, long pfn, int nr) {
        Page head = phys.pfnToPage(pfn);
        if (head == null || head.pgmap() != null || head.testFlag(Ksm.PG_KSM)) {
            return false;
        }
        boolean cow = !vma.isShared() && vma.hasAny(VmFlags.VM_MAYWRITE);
        FolioPins pins = FolioPins.of(phys.kernel());
        for (int i = 0; i < nr; i++) {
            Page p = i == 0 ? head : phys.pfnToPage(pfn + i);
            if (cow && p.mapcount() > 1 || pins.folioMaybeDmaPinned(p)) {
                return false;
            }
        }
        return true;
    }
}
