package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;

/**
 * {@code MADV_COLLAPSE} (mm/khugepaged.c, {@code madvise_collapse},
 * {@code hpage_collapse_scan_pmd}, {@code collapse_huge_page}): the synchronous collapse of
 * the PTE-mapped 2 MiB blocks of a range into THPs. The khugepaged thread itself is not
 * modelled.
 *
 * <p>Overview. Per VMA of the range: the VMA must be anonymous and private and not
 * {@code VM_NOHUGEPAGE} (the sysfs policy does not matter for {@code MADV_COLLAPSE}), else
 * {@code -EINVAL}. Each whole, aligned 2 MiB block of the range inside the VMA is collapsed:
 * a block already mapped by a PMD counts as done; a block with no page table fails
 * ({@code SCAN_PMD_NULL}); every entry must be none, the zero page, or a present anonymous
 * page that is not locked and has no reference beyond its mappings (else {@code SCAN_PAGE_*}
 * fails the block). Any other entry (swap, device, migration, PROT_NONE) fails the block
 * ({@code SCAN_PTE_NON_PRESENT}; the kernel swaps swap entries in first). A collapse
 * allocates a THP (failing with {@code -ENOMEM}), then inside one {@code MMU_NOTIFY_CLEAR}
 * invalidation of the 2 MiB copies each page into it (zeros for none and zero-page entries),
 * releases the old pages and maps the new THP with one PMD (writable if the VMA is).
 *
 * <p>Returns 0 when every block is a THP at the end, else the errno of the last failure:
 * {@code -EAGAIN} for a transient one (a locked or pinned page), {@code -ENOMEM} for a failed
 * allocation, {@code -EINVAL} otherwise ({@code madvise_collapse_errno}).
 *
 * <p>Locking: the caller holds the mmap lock for write (the kernel scans under the read lock
 * and takes the write lock for each collapse; the model holds it throughout).
 */
public final class Khugepaged {
    /** Coverage mark: MADV_COLLAPSE collapsed 512 PTEs into a THP. */
    public static final Mark COLLAPSED = Mark.of("thp.collapse", "MADV_COLLAPSE collapsed 512 PTEs into a THP");

    private static final int SUCCEED = 0;

    private Khugepaged() {
    }

    /** {@code madvise_collapse} for [start, end) of {@code vma}; mmap write lock held. */
    static int madviseCollapse(MmStruct mm, Vma vma, long start, long end) {
        if (!vma.isAnonymous() || vma.isShared()
                || vma.hasAny(VmFlags.VM_NOHUGEPAGE | VmFlags.VM_SPECIAL | VmFlags.VM_HUGETLB)) {
            return -Errno.EINVAL;
        }
        long hstart = Math.max((start + Pte.PMD_SIZE - 1) & Pte.PMD_MASK, (vma.vmStart() + Pte.PMD_SIZE - 1)
                & Pte.PMD_MASK);
        long hend = Math.min(end & Pte.PMD_MASK, vma.vmEnd() & Pte.PMD_MASK);
        int lastFail = SUCCEED;
        for (long addr = hstart; addr < hend; addr += Pte.PMD_SIZE) {
            int result = collapseBlock(mm, vma, addr);
            if (result != SUCCEED) {
                lastFail = result;
            }
        }
        return lastFail;
    }

    /** One block: 0 when it is a THP at the end, else the negated errno of its failure. */
    private static int collapseBlock(MmStruct mm, Vma vma, long haddr) {
        PhysMem phys = PhysMem.of(mm.kernel());
        PageTable pt = mm.pgd("madvise_collapse");
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        int scan;
        try {
            scan = pt.isPmdLeaf(haddr) ? 1 : scanPmd(phys, pt, haddr);
        } finally {
            ptl.unlock();
        }
        if (scan != SUCCEED) {
            return scan > 0 ? SUCCEED : scan;
        }
        Page head = phys.allocFolio(HugeMemory.HPAGE_PMD_ORDER);
        if (head == null) {
            return -Errno.ENOMEM;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, haddr,
                haddr + Pte.PMD_SIZE);
        range.invalidateRangeStart();
        ptl.lock();
        try {
            for (int i = 0; i < HugeMemory.HPAGE_PMD_NR; i++) {
                long addr = haddr + ((long) i << Pte.PAGE_SHIFT);
                long pte = pt.get(addr);
                Page copy = phys.pfnToPage(head.pfn() + i);
                copy.setFlag(Page.PG_ANON);
                copy.incMapcount();
                if (Pte.isPresent(pte) && !Pte.isZero(pte)) {
                    Page old = phys.pfnToPage(Pte.pfn(pte));
                    copy.copyFrom(old);
                    old.decMapcount();
                    old.put();
                }
            }
            pt.clearRange(haddr, haddr + Pte.PMD_SIZE);
            pt.freeEmptyPteTable(haddr);
            pt.setPmdLeaf(haddr, Pte.mkDirty(Pte.mkYoung(Pte.mkPresent(head.pfn(), vma.hasAny(VmFlags.VM_WRITE)))));
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
        mm.kernel().mark(COLLAPSED);
        return SUCCEED;
    }

    /** {@code hpage_collapse_scan_pmd} without khugepaged's limits: 0, or the block's failure. */
    private static int scanPmd(PhysMem phys, PageTable pt, long haddr) {
        if (pt.isPmdNone(haddr)) {
            return -Errno.EINVAL;
        }
        for (int i = 0; i < HugeMemory.HPAGE_PMD_NR; i++) {
            long pte = pt.get(haddr + ((long) i << Pte.PAGE_SHIFT));
            if (Pte.isNone(pte) || Pte.isZero(pte)) {
                continue;
            }
            if (!Pte.isPresent(pte) || Pte.isProtNone(pte) || Pte.isSpecial(pte)) {
                return -Errno.EINVAL;
            }
            Page page = phys.pfnToPage(Pte.pfn(pte));
            if (!page.isAnon()) {
                return -Errno.EINVAL;
            }
            if (page.isLocked() || page.refcount() != page.mapcount()) {
                return -Errno.EAGAIN;
            }
        }
        return SUCCEED;
    }
}
