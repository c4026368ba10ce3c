package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * hugetlbfs for anonymous {@code MAP_HUGETLB} mappings (mm/hugetlb.c): two huge page sizes
 * ({@code hstates}), the default 2 MiB ({@code default_hstate}) and 1 GiB, chosen by
 * {@code MAP_HUGE_SHIFT} and recorded on the VMA ({@link Vma#hugePageShift}), each with a pool
 * of {@code nr_hugepages} pages (the 1 GiB one empty until set), reservations
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
 * <p>A 1 GiB page is one order-18 folio mapped as its 512 PMD-size parts, 512 consecutive
 * PMD leaves that are mapped, write-protected and unmapped together (the model's page table has
 * no PUD leaves); the pool counts each gigantic folio's parts still mapped and takes the folio
 * back with the last one.
 *
 * <p>Differences from the kernel: no PUD leaves (above), no copy-on-write of a 1 GiB page
 * ({@code VM_FAULT_OOM}), no hugetlbfs files ({@code MAP_SHARED | MAP_HUGETLB} is {@code -EINVAL} in the
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
    /** The gigantic huge page size ({@code hugepagesz=1G}): 1 GiB, one PUD. */
    public static final long GIGANTIC_PAGE_SIZE = Pte.PUD_SIZE;
    /** {@code huge_page_order} of a gigantic page: 18. */
    public static final int GIGANTIC_ORDER = Pte.PUD_SHIFT - Pte.PAGE_SHIFT;

    /** One {@code struct hstate}: a page size, its pool and its reservations. */
    private static final class Hstate {
        final int shift;
        final ArrayDeque<Page> free = new ArrayDeque<>();
        int nrHugepages;
        long resvHugePages;

        Hstate(int shift) {
            this.shift = shift;
        }

        int order() {
            return shift - Pte.PAGE_SHIFT;
        }
    }

    private final Kernel kernel;
    private final Hstate pmdHstate = new Hstate(Pte.PMD_SHIFT);
    private final Hstate pudHstate = new Hstate(Pte.PUD_SHIFT);
    /** Head pfns of the 2 MiB pool pages. */
    private final Set<Long> heads = new HashSet<>();
    /** Head pfn of each gigantic pool page to the number of its 512 PMD-size parts still mapped. */
    private final Map<Long, Integer> gigantic = new HashMap<>();
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
                h.setNrHugepagesLocked(h.pmdHstate, DEFAULT_NR_HUGEPAGES);
            }
        }
        return h;
    }

    /**
     * {@code size_to_hstate}: true when {@code shift} names a supported huge page size
     * (21: 2 MiB, 30: 1 GiB), as {@code mmap}'s {@code MAP_HUGE_SHIFT} bits decode.
     */
    public static boolean isSupportedShift(int shift) {
        return shift == Pte.PMD_SHIFT || shift == Pte.PUD_SHIFT;
    }

    private Hstate hstate(int shift) {
        if (shift == Pte.PMD_SHIFT) {
            return pmdHstate;
        }
        if (shift == Pte.PUD_SHIFT) {
            return pudHstate;
        }
        throw new IllegalArgumentException("no hstate of shift " + shift);
    }

    /** /proc/meminfo {@code Hugepagesize:} in kB: 2048. */
    public long hugepagesizeKb() {
        return HUGE_PAGE_SIZE >> 10;
    }

    /** {@code HugePages_Total}: the default pool's size. */
    public synchronized int nrHugepages() {
        return pmdHstate.nrHugepages;
    }

    /** {@code /sys/kernel/mm/hugepages/hugepages-<size>kB/nr_hugepages} of the size {@code 1 << shift}. */
    public synchronized int nrHugepages(int shift) {
        return hstate(shift).nrHugepages;
    }

    /** {@code HugePages_Free}: default pool pages not mapped anywhere (reserved ones included). */
    public synchronized int freeHugePages() {
        return pmdHstate.free.size();
    }

    /** {@code free_hugepages} of the size {@code 1 << shift}. */
    public synchronized int freeHugePages(int shift) {
        return hstate(shift).free.size();
    }

    /** {@code HugePages_Rsvd}: reserved default-size pages not yet faulted in. */
    public synchronized long resvHugePages() {
        return pmdHstate.resvHugePages;
    }

    /** {@code resv_hugepages} of the size {@code 1 << shift}. */
    public synchronized long resvHugePages(int shift) {
        return hstate(shift).resvHugePages;
    }

    /**
     * Writes {@code /proc/sys/vm/nr_hugepages} ({@code set_max_huge_pages}): grows the pool
     * while {@link PhysMem} has order-9 folios, shrinks it by freeing unreserved free pages only.
     *
     * @return the pool's size afterwards
     */
    public synchronized int setNrHugepages(int count) {
        initialised = true;
        return setNrHugepagesLocked(pmdHstate, count);
    }

    /**
     * Writes {@code nr_hugepages} of the size {@code 1 << shift} (21 or 30): the 1 GiB pool
     * is empty until set, as a kernel booted without {@code hugepages=} for it.
     *
     * @return the pool's size afterwards
     */
    public synchronized int setNrHugepages(int shift, int count) {
        if (!initialised) {
            initialised = true;
            setNrHugepagesLocked(pmdHstate, DEFAULT_NR_HUGEPAGES);
        }
        return setNrHugepagesLocked(hstate(shift), count);
    }

    private int setNrHugepagesLocked(Hstate h, int count) {
        if (count < 0) {
            throw new IllegalArgumentException("nr_hugepages " + count);
        }
        PhysMem phys = PhysMem.of(kernel);
        boolean giant = h == pudHstate;
        while (h.nrHugepages < count) {
            Page head = phys.allocFolio(h.order());
            if (head == null) {
                break;
            }
            if (giant) {
                gigantic.put(head.pfn(), 0);
            } else {
                heads.add(head.pfn());
            }
            h.free.addLast(head);
            h.nrHugepages++;
        }
        while (h.nrHugepages > count && h.free.size() > h.resvHugePages) {
            Page head = h.free.removeLast();
            if (giant) {
                gigantic.remove(head.pfn());
            } else {
                heads.remove(head.pfn());
            }
            for (int i = 0; i < 1 << h.order(); i++) {
                phys.pfnToPage(head.pfn() + i).put();
            }
            h.nrHugepages--;
        }
        return h.nrHugepages;
    }

    /** The pfn is the head of a pool page, or of a PMD-size part of a gigantic one. */
    synchronized boolean isHugetlbHead(long pfn) {
        return heads.contains(pfn) || !gigantic.isEmpty() && (pfn & (HUGE_PAGE_NR - 1)) == 0
                && gigantic.containsKey(pfn & -(1L << GIGANTIC_ORDER));
    }

    /** The kernel's pool if it was ever used, else null (no hugetlb page exists then). */
    static Hugetlb ofOrNull(Kernel kernel) {
        return kernel.componentOrNull(Hugetlb.class);
    }

    /** {@code hugetlb_acct_memory(+n)} of one size: reserves {@code n} pages, or false when too few are free. */
    synchronized boolean reserve(int shift, long n) {
        Hstate h = hstate(shift);
        if (h.free.size() - h.resvHugePages < n) {
            return false;
        }
        h.resvHugePages += n;
        return true;
    }

    /** Gives {@code n} reservations of one size back. */
    synchronized void unreserve(int shift, long n) {
        Hstate h = hstate(shift);
        if (n > h.resvHugePages) {
            throw new IllegalStateException("unreserve " + n + " of " + h.resvHugePages);
        }
        h.resvHugePages -= n;
    }

    /**
     * {@code alloc_hugetlb_folio}: a free pool page, zeroed, anonymous, with one reference
     * per page; consumes a reservation when {@code reserved}, else needs an unreserved free page.
     * Null when there is none.
     */
    private synchronized Page allocHugetlbFolio(int shift, boolean reserved) {
        Hstate h = hstate(shift);
        if (reserved) {
            if (h.resvHugePages == 0 || h.free.isEmpty()) {
                throw new IllegalStateException("no reservation to consume");
            }
            h.resvHugePages--;
        } else if (h.free.size() <= h.resvHugePages) {
            return null;
        }
        Page head = h.free.removeFirst();
        if (h == pudHstate) {
            gigantic.put(head.pfn(), HUGE_PAGE_NR);
        }
        return head;
    }

    /** {@code free_huge_folio}: the page goes back to the pool (its last mapping went). */
    synchronized void freeHugetlbFolio(Page head) {
        (heads.contains(head.pfn()) ? pmdHstate : pudHstate).free.addLast(head);
    }

    /**
     * The PMD-size part at {@code partPfn} lost its last mapping: for a part of a gigantic page,
     * the page goes back to the pool with its last part ({@code folio_put} of the whole folio);
     * a 2 MiB page goes back at once.
     */
    private synchronized void partUnmapped(PhysMem phys, long partPfn) {
        if (heads.contains(partPfn)) {
            pmdHstate.free.addLast(phys.pfnToPage(partPfn));
            return;
        }
        long head = partPfn & -(1L << GIGANTIC_ORDER);
        int left = gigantic.get(head) - 1;
        gigantic.put(head, left);
        if (left == 0) {
            pudHstate.free.addLast(phys.pfnToPage(head));
        }
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
        long hsize = vma.hugePageSize();
        for (long a = Math.max(start, vma.vmStart()); a < Math.min(end, vma.vmEnd()); a += hsize) {
            if (!pt.isPmdLeaf(a)) {
                n++;
            }
        }
        return n;
    }

    /**
     * {@code hugetlb_vm_op_split}: an unmap, mprotect or other split of a hugetlb VMA in
     * [start, end) is valid only at boundaries of its huge page size.
     */
    static boolean splitAllowed(VmaTree vmas, long start, long end) {
        for (Vma vma : vmas.intersecting(start, end)) {
            long off = vma.hugePageSize() - 1;
            if (vma.hasAny(VmFlags.VM_HUGETLB) && (start > vma.vmStart() && (start & off) != 0
                    || end < vma.vmEnd() && (end & off) != 0)) {
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
            of(mm.kernel()).unreserve(vma.hugePageShift(), n);
        }
    }

    // ---- faults ----

    /**
     * {@code hugetlb_fault}: a fault in a hugetlb VMA. A none entry gets a whole zeroed page
     * ({@code hugetlb_no_page}; a 1 GiB page is mapped as its 512 PMD-size parts at once);
     * a write to a read-only leaf reuses it when this mapping is its only one, else copies the
     * whole 2 MiB page ({@code hugetlb_wp}, one {@code MMU_NOTIFY_CLEAR} of the huge page
     * around the replacement). Mmap lock held.
     *
     * @return 0, or {@code VM_FAULT_SIGBUS} (no page for a mapping without a reservation) or
     *         {@code VM_FAULT_OOM} (no page for the copy; always for a 1 GiB page, whose
     *         copy-on-write the model does not do)
     */
    static int hugetlbFault(MmStruct mm, Vma vma, long addr, boolean write) {
        int shift = vma.hugePageShift();
        long hpart = addr & Pte.PMD_MASK;
        long hbase = addr & -(1L << shift);
        PageTable pt = mm.pgd("hugetlb_fault");
        SpinLock ptl = mm.pageTableLock();
        PhysMem phys = PhysMem.of(mm.kernel());
        ptl.lock();
        try {
            if (!pt.isPmdLeaf(hpart)) {
                Page head = of(mm.kernel()).allocHugetlbFolio(shift, !vma.hasAny(VmFlags.VM_NORESERVE));
                if (head == null) {
                    return Fault.VM_FAULT_SIGBUS;
                }
                for (int k = 0; k < 1 << (shift - Pte.PMD_SHIFT); k++) {
                    mapNew(phys, pt, vma, hbase + k * Pte.PMD_SIZE,
                            phys.pfnToPage(head.pfn() + (long) k * HUGE_PAGE_NR));
                }
                return 0;
            }
            long pmd = pt.pmdLeaf(hpart);
            if (!write || Pte.isWrite(pmd)) {
                pt.updatePmdLeaf(hpart, e -> write ? Pte.mkDirty(Pte.mkYoung(e)) : Pte.mkYoung(e));
                return 0;
            }
            Page old = phys.pfnToPage(Pte.pfn(pmd));
            if (old.mapcount() == 1 && old.refcount() == 1) {
                pt.updatePmdLeaf(hpart, e -> Pte.mkDirty(Pte.mkYoung(Pte.mkWrite(e))));
                return 0;
            }
        } finally {
            ptl.unlock();
        }
        if (shift != Pte.PMD_SHIFT) {
            return Fault.VM_FAULT_OOM;
        }
        return hugetlbWp(mm, vma, pt, ptl, phys, hpart);
    }

    /** Maps a fresh 2 MiB pool page (or part of a gigantic one) at {@code haddr}; page-table lock held. */
    private static void mapNew(PhysMem phys, PageTable pt, Vma vma, long haddr, Page head) {
        for (int i = 0; i < HUGE_PAGE_NR; i++) {
            Page p = phys.pfnToPage(head.pfn() + i);
            p.clear();
            p.setFlag(Page.PG_ANON);
            p.incMapcount();
        }
        pt.setPmdLeaf(haddr, Pte.mkDirty(Pte.mkYoung(Pte.mkPresent(head.pfn(), vma.hasAny(VmFlags.VM_WRITE)))));
    }

    /** {@code hugetlb_wp}: copy-on-write of a shared 2 MiB huge page. */
    private static int hugetlbWp(MmStruct mm, Vma vma, PageTable pt, SpinLock ptl, PhysMem phys, long haddr) {
        Hugetlb pool = of(mm.kernel());
        Page head = pool.allocHugetlbFolio(Pte.PMD_SHIFT, false);
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
     * Drops one mapping of the 2 MiB page (or PMD-size part of a gigantic page) at
     * {@code headPfn}: its last mapping sends it back to the pool (keeping the pool's
     * reference; a gigantic page goes back with its last part), else each page loses one
     * reference too.
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
            pool.partUnmapped(phys, headPfn);
        }
    }
}
