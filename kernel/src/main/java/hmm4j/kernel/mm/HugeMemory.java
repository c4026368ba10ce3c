package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;

/**
 * Anonymous transparent huge pages (mm/huge_memory.c): the "enabled" policy, the PMD-level
 * fault ({@code do_huge_pmd_anonymous_page}, the huge zero page,
 * {@code do_huge_pmd_wp_page}), the split of a PMD mapping ({@code __split_huge_pmd}), the
 * zap of a whole PMD ({@code zap_huge_pmd}), fork's {@code copy_huge_pmd} and the reclaim of a
 * PMD-mapped THP. A per-{@link Kernel} component ({@link #of}) holding the sysfs settings.
 *
 * <p>Overview. A THP is an order-{@value #HPAGE_PMD_ORDER} allocation
 * ({@link PhysMem#allocFolio}: 512 pages on aligned pfns) mapped by one PMD leaf
 * ({@link PageTable#setPmdLeaf}). A fault at a none PMD of an anonymous private VMA maps one
 * when {@link #vmaAllowsPmd} says so: policy {@link Enabled#ALWAYS}, or {@link Enabled#MADVISE}
 * and {@link VmFlags#VM_HUGEPAGE}, never with {@link VmFlags#VM_NOHUGEPAGE}; and the aligned
 * 2 MiB around the address lies inside the VMA. A read fault maps the huge zero page
 * read-only (when {@link #useZeroPage}), a write fault a new THP, writable if the VMA is;
 * when no THP can be allocated the fault falls back to a base page. A write fault on a
 * read-only leaf reuses the THP when it is exclusive (every page mapped once and referenced
 * once), otherwise it splits the PMD and copies one base page (the kernel has not copied
 * whole THPs on COW since v5.8); on the huge zero page it always splits.
 *
 * <p>NUMA hinting ({@link NumaBalancing}): a scan whose window covers a leaf whole makes it
 * prot-none in one leaf update ({@link #changeHugePmdProtNuma}, {@code change_huge_pmd} with
 * {@code MM_CP_PROT_NUMA}), inside the scan's one {@code PROTECTION_VMA}; the hinting fault
 * ({@link #doHugePmdNumaPage}) gives the leaf its protection back, without a split or an event.
 *
 * <p>Splits. {@link #splitHugePmd} sends {@code MMU_NOTIFY_CLEAR} over the whole aligned PMD
 * range around the split, with no owner. Callers: partial munmap and mprotect (the VMA split
 * at an address inside a leaf, {@code vma_adjust_trans_huge}, before the caller's own
 * invalidation), {@code MADV_DONTNEED} of part of a leaf (inside the advice's CLEAR, as
 * {@code zap_pmd_range} nests it), a copy-on-write fallback, {@code migrate_vma_setup} (the
 * non-compound collection splits the folio) and {@code make_device_exclusive}. Reclaim
 * splits under the page-table lock inside its own CLEAR of the PMD range
 * ({@code try_to_unmap_one} with {@code TTU_SPLIT_HUGE_PMD}).
 *
 * <p>Accounting (a difference from the kernel, see docs/kernel-mapping.md): every page of a
 * THP carries its own reference and map count for the PMD mapping, as if mapped by 512 PTEs;
 * the kernel keeps one folio reference and an entire-mapcount. A split therefore changes no
 * count, and the pages of a split THP are independent at once (the kernel's deferred split
 * queue is not modelled: unmapped pages of a partially unmapped THP are freed at the unmap).
 *
 * <p>Locking: as {@link Fault}; the split takes the mmap lock from its caller (read or write)
 * and the page-table lock itself, around which the notifier runs.
 */
public final class HugeMemory {
    /** {@code HPAGE_PMD_ORDER} on x86-64: 2 MiB of 4 KiB pages. */
    public static final int HPAGE_PMD_ORDER = Pte.PMD_SHIFT - Pte.PAGE_SHIFT;
    /** {@code HPAGE_PMD_NR}. */
    public static final int HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;
    /** {@code HPAGE_PMD_SIZE}. */
    public static final long HPAGE_PMD_SIZE = Pte.PMD_SIZE;

    /** Coverage mark: a fault mapped a new THP with one PMD. */
    public static final Mark FAULT_ALLOC = Mark.of("thp.fault.alloc", "A fault mapped a new THP with one PMD");
    /** Coverage mark: a read fault mapped the huge zero page. */
    public static final Mark FAULT_ZERO = Mark.of("thp.fault.zero", "A read fault mapped the huge zero page");
    /** Coverage mark: a PMD mapping was split into 512 PTEs. */
    public static final Mark SPLIT_PMD = Mark.of("thp.split.pmd", "A PMD mapping was split into 512 PTEs");
    /** Coverage mark: a NUMA scan made a whole PMD leaf a hinting entry. */
    public static final Mark NUMA_MARK = Mark.of("thp.numa.mark",
            "A NUMA balancing scan made a whole PMD-mapped THP prot-none (change_huge_pmd, MM_CP_PROT_NUMA)");
    /** Coverage mark: a hinting fault took the mark off a PMD leaf. */
    public static final Mark NUMA_FAULT = Mark.of("thp.numa.fault",
            "A NUMA hinting fault made a prot-none PMD leaf accessible again (do_huge_pmd_numa_page)");

    /** {@code /sys/kernel/mm/transparent_hugepage/enabled}. */
    public enum Enabled { ALWAYS, MADVISE, NEVER }

    private volatile Enabled enabled = Enabled.MADVISE;
    private volatile boolean useZeroPage = true;

    private HugeMemory() {
    }

    /** The kernel's THP settings: "madvise", huge zero page on, unless changed. */
    public static HugeMemory of(Kernel kernel) {
        return kernel.component(HugeMemory.class, HugeMemory::new);
    }

    /** The "enabled" policy. */
    public Enabled enabled() {
        return enabled;
    }

    /** Writes the "enabled" policy (affects later faults only, as in the kernel). */
    public void setEnabled(Enabled policy) {
        enabled = java.util.Objects.requireNonNull(policy);
    }

    /** {@code use_zero_page}: whether a read fault maps the huge zero page. */
    public boolean useZeroPage() {
        return useZeroPage;
    }

    /** Writes {@code use_zero_page}. */
    public void setUseZeroPage(boolean on) {
        useZeroPage = on;
    }

    /**
     * {@code thp_vma_allowable_order} + {@code thp_vma_suitable_order} for a PMD fault at
     * {@code addr}: an anonymous private VMA, allowed by the policy and the VMA's flags, that
     * contains the whole aligned PMD range of {@code addr}.
     */
    public boolean vmaAllowsPmd(Vma vma, long addr) {
        if (!vma.isAnonymous() || vma.isShared() || vma.hasAny(VmFlags.VM_NOHUGEPAGE | VmFlags.VM_SPECIAL
                | VmFlags.VM_HUGETLB)) {
            return false;
        }
        Enabled policy = enabled;
        if (policy == Enabled.NEVER || policy == Enabled.MADVISE && !vma.hasAny(VmFlags.VM_HUGEPAGE)) {
            return false;
        }
        long haddr = addr & Pte.PMD_MASK;
        return haddr >= vma.vmStart() && haddr + HPAGE_PMD_SIZE <= vma.vmEnd();
    }

    // ---- faults (called by Fault with the page-table lock held) ----

    /**
     * {@code do_huge_pmd_anonymous_page} at the none PMD of {@code addr}; page-table lock held.
     *
     * @return 0 when the PMD was mapped, or -1 to fall back to a base-page fault
     */
    static int doHugePmdAnonymousPage(MmStruct mm, PhysMem phys, PageTable pt, Vma vma, long addr, boolean write) {
        HugeMemory thp = of(mm.kernel());
        long haddr = addr & Pte.PMD_MASK;
        if (!write && thp.useZeroPage) {
            pt.setPmdLeaf(haddr, Pte.mkSpecial(Pte.mkPresent(phys.hugeZeroPfn(), false)));
            mm.kernel().mark(FAULT_ZERO);
            return 0;
        }
        Page head = phys.allocFolio(HPAGE_PMD_ORDER);
        if (head == null) {
            return -1;
        }
        for (int i = 0; i < HPAGE_PMD_NR; i++) {
            Page p = phys.pfnToPage(head.pfn() + i);
            p.setFlag(Page.PG_ANON);
            p.incMapcount();
        }
        pt.setPmdLeaf(haddr, Pte.mkDirty(Pte.mkYoung(Pte.mkPresent(head.pfn(), vma.hasAny(VmFlags.VM_WRITE)))));
        mm.kernel().mark(FAULT_ALLOC);
        return 0;
    }

    /**
     * A fault on a present leaf ({@code huge_pmd_set_accessed}, {@code do_huge_pmd_numa_page},
     * {@code do_huge_pmd_wp_page}); entered with the page-table lock held, drops it.
     *
     * @return 0 when handled, or -1 when the PMD was split and the caller must handle the
     *         fault at PTE level (with the page-table lock not held)
     */
    static int hugePmdFault(MmStruct mm, PhysMem phys, PageTable pt, SpinLock ptl, Vma vma, long addr,
                            boolean write) {
        long haddr = addr & Pte.PMD_MASK;
        long pmd = pt.pmdLeaf(haddr);
        if (Pte.isProtNone(pmd)) {
            // __handle_mm_fault: a prot-none PMD in an accessible VMA (the caller checked the
            // access) is a NUMA hinting entry, whatever the kind of fault.
            doHugePmdNumaPage(mm, phys, pt, vma, haddr);
            ptl.unlock();
            return 0;
        }
        if (!write || Pte.isWrite(pmd)) {
            pt.updatePmdLeaf(haddr, e -> write ? Pte.mkDirty(Pte.mkYoung(e)) : Pte.mkYoung(e));
            ptl.unlock();
            return 0;
        }
        if (!Pte.isSpecial(pmd) && isExclusive(phys, Pte.pfn(pmd))) {
            pt.updatePmdLeaf(haddr, e -> Pte.mkDirty(Pte.mkYoung(Pte.mkWrite(e))));
            ptl.unlock();
            return 0;
        }
        ptl.unlock();
        splitHugePmd(mm, haddr);
        return -1;
    }

    /**
     * {@code do_huge_pmd_numa_page}: the hinting fault on the prot-none leaf of {@code haddr}
     * takes the mark off under the page-table lock (held, kept): the leaf gets the VMA's
     * protection back and is made young, and writable as well when
     * {@link #canChangePmdWritable} allows it, whether the fault was a read or a write. No
     * invalidation (the entry gains access, a secondary MMU has nothing to drop), no migration
     * (one node).
     */
    static void doHugePmdNumaPage(MmStruct mm, PhysMem phys, PageTable pt, Vma vma, long haddr) {
        long restored = Pte.mkYoung(Pte.clearProtNone(pt.pmdLeaf(haddr)));
        // vma_wants_manual_pte_write_upgrade: a private VMA with VM_WRITE (its vm_page_prot is
        // never writable), or a shared one that needs write notification (the model has none).
        boolean writable = !Pte.isWrite(restored) && vma.hasAny(VmFlags.VM_WRITE)
                && canChangePmdWritable(mm, phys, vma, haddr, restored);
        long updated = writable ? Pte.mkWrite(restored) : restored;
        pt.updatePmdLeaf(haddr, e -> updated);
        mm.kernel().mark(NUMA_FAULT);
    }

    /**
     * {@code can_change_pmd_writable} for the (accessible) leaf {@code pmd} of {@code haddr}
     * in a VMA with {@code VM_WRITE}: not while uffd-wp tracks it; in a private VMA only an
     * exclusive anonymous THP ({@code PageAnonExclusive}, which the model reads as
     * {@link #isExclusive}); in a shared one only a dirty leaf. Page-table lock held.
     */
    static boolean canChangePmdWritable(MmStruct mm, PhysMem phys, Vma vma, long haddr, long pmd) {
        if (Pte.isProtNone(pmd) || !Pte.isPresent(pmd)) {
            return false;
        }
        if (vma.hasAny(VmFlags.VM_UFFD_WP)) {
            for (int i = 0; i < HPAGE_PMD_NR; i++) {
                if (Userfaultfd.pteWp(mm, haddr + ((long) i << Pte.PAGE_SHIFT))) {
                    return false;
                }
            }
        }
        if (!vma.isShared()) {
            return !Pte.isSpecial(pmd) && isExclusive(phys, Pte.pfn(pmd));
        }
        return Pte.isDirty(pmd);
    }

    /**
     * {@code change_huge_pmd} with {@code MM_CP_PROT_NUMA} for the leaf of {@code haddr}, which
     * the caller's range covers whole: the leaf becomes prot-none and read-only in one step
     * (the kernel's {@code pmdp_invalidate_ad} + {@code pmd_modify} to {@code PAGE_NONE}; the
     * PMD is never none in between). Skipped: a non-present leaf, the huge zero page, a leaf
     * that already is a hinting entry, and a THP {@link NumaBalancing#folioCanMapProtNuma}
     * refuses. Page-table lock held; the caller's {@code PROTECTION_VMA} range is started.
     *
     * @return the pages changed: {@value #HPAGE_PMD_NR} or 0
     */
    static int changeHugePmdProtNuma(MmStruct mm, PhysMem phys, PageTable pt, Vma vma, long haddr) {
        long pmd = pt.pmdLeaf(haddr);
        if (!Pte.isPresent(pmd) || Pte.isProtNone(pmd) || isHugeZeroPmd(phys, pmd)) {
            return 0;
        }
        if (!NumaBalancing.folioCanMapProtNuma(phys, vma, Pte.pfn(pmd), HPAGE_PMD_NR)) {
            return 0;
        }
        pt.updatePmdLeaf(haddr, e -> Pte.mkProtNone(Pte.wrprotect(e)));
        mm.kernel().mark(NUMA_MARK);
        return HPAGE_PMD_NR;
    }

    /** {@code is_huge_zero_pmd}. */
    static boolean isHugeZeroPmd(PhysMem phys, long pmd) {
        long zero = phys.hugeZeroPfnIfAllocated();
        return zero != 0 && Pte.pfn(pmd) == zero;
    }

    /** Every page of the THP at {@code headPfn} is mapped once and referenced once. */
    private static boolean isExclusive(PhysMem phys, long headPfn) {
        for (int i = 0; i < HPAGE_PMD_NR; i++) {
            Page p = phys.pfnToPage(headPfn + i);
            if (!p.isAnon() || p.mapcount() != 1 || p.refcount() != 1) {
                return false;
            }
        }
        return true;
    }

    // ---- splits ----

    /**
     * {@code __split_huge_pmd}: if the PMD of {@code addr} is a leaf, one
     * {@code MMU_NOTIFY_CLEAR} invalidation of its aligned 2 MiB around turning it into 512
     * PTEs. Nothing (no event) when it is not a leaf. Caller holds the mmap lock, no spinlock.
     */
    public static void splitHugePmd(MmStruct mm, long addr) {
        long haddr = addr & Pte.PMD_MASK;
        PageTable pt = mm.pgd("split_huge_pmd");
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        boolean leaf = pt.isPmdLeaf(haddr);
        ptl.unlock();
        if (!leaf) {
            return;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, haddr,
                haddr + HPAGE_PMD_SIZE);
        range.invalidateRangeStart();
        ptl.lock();
        try {
            if (pt.isPmdLeaf(haddr)) {
                splitPmdLocked(mm, pt, haddr);
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
    }

    /** {@code split_huge_pmd_locked}: the split itself, page-table lock held. */
    static void splitPmdLocked(MmStruct mm, PageTable pt, long haddr) {
        pt.splitPmdLeaf(haddr, PhysMem.of(mm.kernel()).hugeZeroPfnIfAllocated());
        mm.kernel().mark(SPLIT_PMD);
    }

    /**
     * Splits the leaves that [{@code start}, {@code end}) covers only in part: those around
     * an unaligned {@code start} or {@code end} ({@code vma_adjust_trans_huge}, and the
     * partial case of {@code zap_pmd_range}). Caller holds the mmap lock.
     */
    public static void splitHugePmdEdges(MmStruct mm, long start, long end) {
        if (mm.pgd("split_huge_pmd").pmdLeafCount() == 0) {
            return;
        }
        if ((start & ~Pte.PMD_MASK) != 0) {
            splitHugePmd(mm, start);
        }
        if ((end & ~Pte.PMD_MASK) != 0) {
            splitHugePmd(mm, end);
        }
    }

    /** Splits every leaf that intersects [{@code start}, {@code end}). Caller holds the mmap lock. */
    public static void splitHugePmdRange(MmStruct mm, long start, long end) {
        PageTable pt = mm.pgd("split_huge_pmd");
        if (pt.pmdLeafCount() == 0) {
            return;
        }
        for (long a = start & Pte.PMD_MASK; a < end; a += HPAGE_PMD_SIZE) {
            splitHugePmd(mm, a);
        }
    }

    // ---- fork ----

    /**
     * {@code copy_huge_pmd}: the child gets the same leaf, old and write-protected, and each
     * page one more reference and mapping; the parent's leaf is write-protected too (a COW
     * mapping) so that the first write of either side faults. Both page-table locks held.
     */
    static void copyHugePmd(MmStruct dstMm, PhysMem phys, PageTable dst, PageTable src, long haddr, boolean cow) {
        long pmd = src.pmdLeaf(haddr);
        if (!Pte.isPresent(pmd)) {
            // A device-private PMD is shared as its PTEs would be (copy_huge_pmd): one more
            // mapping, reference and rmap place per page, both sides read-only in a COW
            // mapping. A PMD migration entry is copied read-only; the migration holds the pages.
            boolean device = Pte.isDevicePrivate(pmd);
            if (cow && Pte.isWrite(pmd)) {
                long ro = device ? Pte.mkDevicePrivate(Pte.pfn(pmd), false) : Pte.mkMigration(Pte.pfn(pmd), false);
                src.replacePmdLeaf(haddr, ro);
                pmd = ro;
            }
            dst.setPmdLeaf(haddr, pmd & ~Pte.HUGE);
            for (int i = 0; i < HPAGE_PMD_NR; i++) {
                Page p = phys.pfnToPage(Pte.pfn(pmd) + i);
                if (device) {
                    p.get();
                    p.incMapcount();
                }
                if (p.pgmap() != null) {
                    p.pgmap().rmapAdd(p, dstMm, dst, haddr + ((long) i << Pte.PAGE_SHIFT));
                }
            }
            return;
        }
        if (!Pte.isSpecial(pmd)) {
            for (int i = 0; i < HPAGE_PMD_NR; i++) {
                Page p = phys.pfnToPage(Pte.pfn(pmd) + i);
                p.get();
                p.incMapcount();
            }
        }
        if (cow && Pte.isWrite(pmd)) {
            src.updatePmdLeaf(haddr, Pte::wrprotect);
            pmd = Pte.wrprotect(pmd);
        }
        dst.setPmdLeaf(haddr, Pte.mkOld(pmd) & ~Pte.HUGE);
    }

    // ---- reclaim ----

    /**
     * Reclaim of the PMD-mapped THP at {@code addr} ({@code try_to_unmap_one} with
     * {@code TTU_SPLIT_HUGE_PMD}, then the swap-out of each page): one CLEAR invalidation of the
     * PMD range, inside which the leaf is split and every page gets a swap entry. Only an
     * exclusive THP of unlocked pages is taken, and only if the swap device has room for all
     * of it. Returns the pages swapped out (0 or 512). Caller holds the mmap lock.
     */
    static int reclaimPmd(MmStruct mm, PhysMem phys, SwapSpace swap, long addr) {
        long haddr = addr & Pte.PMD_MASK;
        if (swap.totalSlots() - swap.usedSlots() < HPAGE_PMD_NR) {
            return 0;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, haddr,
                haddr + HPAGE_PMD_SIZE);
        range.invalidateRangeStart();
        PageTable pt = mm.pgd("try_to_unmap");
        SpinLock ptl = mm.pageTableLock();
        Page[] freed = null;
        ptl.lock();
        try {
            if (pt.isPmdLeaf(haddr) && Pte.isPresent(pt.pmdLeaf(haddr)) && !Pte.isSpecial(pt.pmdLeaf(haddr))
                    && isExclusive(phys, Pte.pfn(pt.pmdLeaf(haddr)))) {
                long head = Pte.pfn(pt.pmdLeaf(haddr));
                freed = lockAll(phys, head);
                if (freed != null && allDiscardable(freed, pt.pmdLeaf(haddr))) {
                    // A clean lazily freed THP is dropped whole, without a split.
                    pt.clearPmdLeaf(haddr);
                    for (Page p : freed) {
                        p.decMapcount();
                        p.unlock();
                    }
                } else if (freed != null) {
                    splitPmdLocked(mm, pt, haddr);
                    for (int i = 0; i < HPAGE_PMD_NR; i++) {
                        Page p = freed[i];
                        long slot = swap.allocate(p);
                        pt.set(haddr + ((long) i << Pte.PAGE_SHIFT), Pte.mkSwap(slot));
                        p.decMapcount();
                        p.unlock();
                    }
                }
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
        if (freed == null) {
            return 0;
        }
        for (Page p : freed) {
            p.put();
        }
        return HPAGE_PMD_NR;
    }

    /** Every page of a locked THP may be discarded ({@link LazyFree#discardable}; marks of a written THP go). */
    private static boolean allDiscardable(Page[] pages, long pmd) {
        boolean all = true;
        for (Page p : pages) {
            all &= LazyFree.discardable(p, pmd);
        }
        return all;
    }

    /** Trylocks the 512 pages of a THP (the kernel locks the one folio); null if one is taken. */
    private static Page[] lockAll(PhysMem phys, long head) {
        Page[] pages = new Page[HPAGE_PMD_NR];
        for (int i = 0; i < HPAGE_PMD_NR; i++) {
            Page p = phys.pfnToPage(head + i);
            if (!p.trylock()) {
                for (int j = 0; j < i; j++) {
                    pages[j].unlock();
                }
                return null;
            }
            pages[i] = p;
        }
        return pages;
    }
}
