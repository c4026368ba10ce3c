package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * hugetlbfs for anonymous {@code MAP_HUGETLB} mappings (mm/hugetlb.c): one huge page size, the
 * default 2 MiB ({@code default_hstate}), a pool of {@code nr_hugepages} pages, reservations
 * taken at {@code mmap}, faults that map a whole zeroed huge page at once, and pages going back
 * to the pool when their last mapping goes.
 *
 * <p>Overview. One per kernel ({@link #of}). The pool is {@code nr_hugepages} order-9 folios
 * allocated from {@link PhysMem} when the size is set ({@link #setNrHugepages}; the default
 * pool is allocated on first use). A free pool page keeps the one reference per page the
 * allocation gave it and has no {@code PG_anon}; a fault hands that reference to the mapping.
 * A hugetlb mapping is a PMD leaf in the page table ({@link PageTable#setPmdLeaf}), the same
 * representation as an anonymous THP, in a VMA with {@link VmFlags#VM_HUGETLB}; it is never
 * split.
 *
 * <p>Reservations ({@code hugetlb_reserve_pages}, {@code resv_huge_pages}): a private mapping
 * without {@code MAP_NORESERVE} reserves one page per huge page of its length, or {@code mmap}
 * fails with {@code -ENOMEM}; each first fault of a huge page consumes one; unmapping a huge
 * page never faulted gives its reservation back ({@code hugetlb_vm_op_close}). The model's
 * marker of "this VMA owns reservations" ({@code HPAGE_RESV_OWNER}) is the absence of
 * {@link VmFlags#VM_NORESERVE}: fork gives the child's copy {@code VM_NORESERVE}, as the
 * kernel's child owns no reservations. A fault without a reservation takes a free page not
 * reserved by anyone, else fails with {@code VM_FAULT_SIGBUS} (no surplus pages:
 * {@code nr_overcommit_hugepages} is 0).
 *
 * <p>Locking: the pool is guarded by this object's monitor ({@code hugetlb_lock}); faults run
 * with the mmap lock held and the page-table lock taken here.
 *
 * <p>Differences from the kernel: one page size (no 1 GiB pages, no {@code MAP_HUGE_SHIFT}
 * sizes), no hugetlbfs files ({@code MAP_SHARED | MAP_HUGETLB} is {@code -EINVAL} in the
 * model), no NUMA nodes, no surplus pages, no page-table sharing. A copy-on-write fault after
 * fork allocates an unreserved page and fails with {@code VM_FAULT_OOM} when there is none (the
 * kernel lets the reservation owner take the page back from the child,
 * {@code unmap_ref_private}).
 */
public final class Hugetlb {
    /** The default huge page size, as {@code Hugepagesize:} in /proc/meminfo says: 2 MiB. */
    public static final long HUGE_PAGE_SIZE = Pte.PMD_SIZE;
    /** Pages of {@link #HUGE_PAGE_SIZE}: 512. */
    public static final int HUGE_PAGE_NR = HugeMemory.HPAGE_PMD_NR;
    /** The model's default {@code nr_hugepages}: 16 (32 MiB). */
    public static final int DEFAULT_NR_HUGEPAGES = 16;

    private final Kernel kernel;
    private final ArrayDeque<Page> free = new ArrayDeque<>();
    private final Set<Long> heads = new HashSet<>();
    private int nrHugepages;
    private long resvHugePages;
    private boolean initialised;

    private Hugetlb(Kernel kernel) {
        this.kernel = kernel;
    }

    /** The kernel's hugetlb pool (allocated with {@link #DEFAULT_NR_HUGEPAGES} pages on first use). */
    public static Hugetlb of(Kernel kernel) {
        Hugetlb h = kernel.component(Hugetlb.class, () -> new Hugetlb(kernel));
        synchronized (h) {
            if (!h.initialised) {
                h.initialised = true;
                h.setNrHugepagesLocked(DEFAULT_NR_HUGEPAGES);
            }
        }
        return h;
    }

    /** /proc/meminfo {@code Hugepagesize:} in kB: 2048. */
    public long hugepagesizeKb() {
        return HUGE_PAGE_SIZE >> 10;
    }

    /** {@code HugePages_Total}: the pool's size. */
    public synchronized int nrHugepages() {
        return nrHugepages;
    }

    /** {@code HugePages_Free}: pool pages not mapped anywhere (reserved ones included). */
    public synchronized int freeHugePages() {
        return free.size();
    }

    /** {@code HugePages_Rsvd}: reserved pages not yet faulted in. */
    public synchronized long resvHugePages() {
        return resvHugePages;
    }

    /**
     * Writes {@code /proc/sys/vm/nr_hugepages} ({@code set_max_huge_pages}): grows the pool
     * while {@link PhysMem} has order-9 folios, shrinks it by freeing unreserved free pages only.
     *
     * @return the pool's size afterwards
     */
    public synchronized int setNrHugepages(int count) {
        initialised = true;
        return setNrHugepagesLocked(count);
    }

    private int setNrHugepagesLocked(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("nr_hugepages " + count);
        }
        PhysMem phys = PhysMem.of(kernel);
        while (nrHugepages < count) {
            Page head = phys.allocFolio(HugeMemory.HPAGE_PMD_ORDER);
            if (head == null) {
                break;
            }
            heads.add(head.pfn());
            free.addLast(head);
            nrHugepages++;
        }
        while (nrHugepages > count && free.size() > resvHugePages) {
            Page head = free.removeLast();
            heads.remove(head.pfn());
            for (int i = 0; i < HUGE_PAGE_NR; i++) {
                phys.pfnToPage(head.pfn() + i).put();
            }
            nrHugepages--;
        }
        return nrHugepages;
    }

    /** The pfn is the head of a pool page. */
    synchronized boolean isHugetlbHead(long pfn) {
        return heads.contains(pfn);
    }

    /** The kernel's pool if it was ever used, else null (no hugetlb page exists then). */
    static Hugetlb ofOrNull(Kernel kernel) {
        return kernel.componentOrNull(Hugetlb.class);
    }

    /** {@code hugetlb_acct_memory(+n)}: reserves {@code n} pages, or false when too few are free. */
    synchronized boolean reserve(long n) {
        if (free.size() - resvHugePages < n) {
            return false;
        }
        resvHugePages += n;
        return true;
    }

    /** Gives {@code n} reservations back. */
    synchronized void unreserve(long n) {
        if (n > resvHugePages) {
            throw new IllegalStateException("unreserve " + n + " of " + resvHugePages);
        }
        resvHugePages -= n;
    }

    /**
     * {@code alloc_hugetlb_folio}: a free pool page, zeroed, anonymous, with one reference
     * per page; consumes a reservation when {@code reserved}, else needs an unreserved free page.
     * Null when there is none.
     */
    private synchronized Page allocHugetlbFolio(boolean reserved) {
        if (reserved) {
            if (resvHugePages == 0 || free.isEmpty()) {
                throw new IllegalStateException("no reservation to consume");
            }
            resvHugePages--;
        } else if (free.size() <= resvHugePages) {
            return null;
        }
        return free.removeFirst();
    }

    /** {@code free_huge_folio}: the page goes back to the pool (its last mapping went). */
    synchronized void freeHugetlbFolio(Page head) {
        free.addLast(head);
    }

    // ---- mmap / munmap ----

    /**
     * The reservation a hugetlb VMA holds for [start, end): its huge pages without a mapping,
     * if it owns reservations. Caller holds the page-table lock or owns the address space.
     */
    static long reservedIn(PageTable pt, Vma vma, long start, long end) {
        if (!vma.hasAny(VmFlags.VM_HUGETLB) || vma.hasAny(VmFlags.VM_NORESERVE)) {
            return 0;
        }
        long n = 0;
        for (long a = Math.max(start, vma.vmStart()); a < Math.min(end, vma.vmEnd()); a += HUGE_PAGE_SIZE) {
            if (!pt.isPmdLeaf(a)) {
                n++;
            }
        }
        return n;
    }

    /**
     * {@code hugetlb_vm_op_split}: an unmap, mprotect or other split of a hugetlb VMA in
     * [start, end) is valid only at huge-page boundaries.
     */
    static boolean splitAllowed(VmaTree vmas, long start, long end) {
        for (Vma vma : vmas.intersecting(start, end)) {
            if (vma.hasAny(VmFlags.VM_HUGETLB) && (start > vma.vmStart() && (start & ~Pte.PMD_MASK) != 0
                    || end < vma.vmEnd() && (end & ~Pte.PMD_MASK) != 0)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Gives back the reservations of the huge pages never faulted in [start, end) of
     * {@code vma} ({@code hugetlb_vm_op_close} / the unmap's part of it); call before
     * the zap. Mmap write lock held (or the address space is being torn down).
     */
    static void unreserveRange(MmStruct mm, PageTable pt, Vma vma, long start, long end) {
        long n = reservedIn(pt, vma, start, end);
        if (n > 0) {
            of(mm.kernel()).unreserve(n);
        }
    }

    // ---- faults ----

    /**
     * {@code hugetlb_fault}: a fault in a hugetlb VMA. A none PMD gets a whole zeroed page
     * ({@code hugetlb_no_page}); a write to a read-only leaf reuses it when this mapping is
     * its only one, else copies the whole huge page ({@code hugetlb_wp}, one
     * {@code MMU_NOTIFY_CLEAR} of the huge page around the replacement). Mmap lock held.
     *
     * @return 0, or {@code VM_FAULT_SIGBUS} (no page for a mapping without a reservation) or
     *         {@code VM_FAULT_OOM} (no page for the copy)
     */
    static int hugetlbFault(MmStruct mm, Vma vma, long addr, boolean write) {
        long haddr = addr & Pte.PMD_MASK;
        PageTable pt = mm.pgd("hugetlb_fault");
        SpinLock ptl = mm.pageTableLock();
        PhysMem phys = PhysMem.of(mm.kernel());
        ptl.lock();
        try {
            if (!pt.isPmdLeaf(haddr)) {
                Page head = of(mm.kernel()).allocHugetlbFolio(!vma.hasAny(VmFlags.VM_NORESERVE));
                if (head == null) {
                    return Fault.VM_FAULT_SIGBUS;
                }
                mapNew(phys, pt, vma, haddr, head);
                return 0;
            }
            long pmd = pt.pmdLeaf(haddr);
            if (!write || Pte.isWrite(pmd)) {
                pt.updatePmdLeaf(haddr, e -> write ? Pte.mkDirty(Pte.mkYoung(e)) : Pte.mkYoung(e));
                return 0;
            }
            Page old = phys.pfnToPage(Pte.pfn(pmd));
            if (old.mapcount() == 1 && old.refcount() == 1) {
                pt.updatePmdLeaf(haddr, e -> Pte.mkDirty(Pte.mkYoung(Pte.mkWrite(e))));
                return 0;
            }
        } finally {
            ptl.unlock();
        }
        return hugetlbWp(mm, vma, pt, ptl, phys, haddr);
    }

    /** Maps a fresh pool page at {@code haddr}; page-table lock held. */
    private static void mapNew(PhysMem phys, PageTable pt, Vma vma, long haddr, Page head) {
        for (int i = 0; i < HUGE_PAGE_NR; i++) {
            Page p = phys.pfnToPage(head.pfn() + i);
            p.clear();
            p.setFlag(Page.PG_ANON);
            p.incMapcount();
        }
        pt.setPmdLeaf(haddr, Pte.mkDirty(Pte.mkYoung(Pte.mkPresent(head.pfn(), vma.hasAny(VmFlags.VM_WRITE)))));
    }

    /** {@code hugetlb_wp}: copy-on-write of a shared huge page. */
    private static int hugetlbWp(MmStruct mm, Vma vma, PageTable pt, SpinLock ptl, PhysMem phys, long haddr) {
        Hugetlb pool = of(mm.kernel());
        Page head = pool.allocHugetlbFolio(false);
        if (head == null) {
            return Fault.VM_FAULT_OOM;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, haddr,
                haddr + HUGE_PAGE_SIZE);
        range.invalidateRangeStart();
        ptl.lock();
        try {
            if (!pt.isPmdLeaf(haddr) || Pte.isWrite(pt.pmdLeaf(haddr))) {
                pool.freeHugetlbFolio(head);
                return 0;
            }
            long oldHead = Pte.pfn(pt.pmdLeaf(haddr));
            pt.clearPmdLeaf(haddr);
            mapNew(phys, pt, vma, haddr, head);
            for (int i = 0; i < HUGE_PAGE_NR; i++) {
                phys.pfnToPage(head.pfn() + i).copyFrom(phys.pfnToPage(oldHead + i));
            }
            releaseMapping(pool, phys, oldHead);
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
        return 0;
    }

    /**
     * Drops one mapping of the huge page at {@code headPfn}: its last mapping sends it back to
     * the pool (keeping the pool's reference), else each page loses one reference too.
     */
    static void releaseMapping(Hugetlb pool, PhysMem phys, long headPfn) {
        Page head = phys.pfnToPage(headPfn);
        boolean last = head.refcount() == 1;
        for (int i = 0; i < HUGE_PAGE_NR; i++) {
            Page p = phys.pfnToPage(headPfn + i);
            p.decMapcount();
            if (last) {
                p.clearFlag(Page.PG_ANON);
            } else {
                p.put();
            }
        }
        if (last) {
            pool.freeHugetlbFolio(head);
        }
    }
}
