package hmm4j.kernel.mm;

import hmm4j.kernel.mm.migrate.MigrateDevice;
import hmm4j.kernel.mm.migrate.ZoneDevice;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;

/**
 * get_user_pages: references ({@code FOLL_GET}) and DMA pins ({@code FOLL_PIN}) on the pages
 * backing a user range (mm/gup.c: {@code get_user_pages}, {@code pin_user_pages},
 * {@code get_user_pages_fast}, {@code pin_user_pages_fast}, {@code unpin_user_pages},
 * {@code __get_user_pages}, {@code follow_page_pte}, {@code faultin_page}, {@code gup_fast}).
 *
 * <p>Overview. Page by page, the slow path finds the VMA (none, {@code VM_IO}/{@code VM_PFNMAP},
 * or an access the VMA does not allow: {@code -EFAULT}), then looks at the entry under the
 * page-table lock: a present entry that allows the access ({@code FOLL_WRITE} needs a writable
 * one) gives its page, referenced or pinned ({@link FolioPins}), and is marked young (and dirty
 * for a write). Anything else goes through the fault handler as the CPU's access would, with
 * {@code FAULT_FLAG_WRITE} for {@code FOLL_WRITE}, and the entry is looked at again: so an
 * absent page is allocated, a read-only shared one is copied for a write, a migration entry is
 * waited for, a device-exclusive entry is taken back and <em>a device-private entry is migrated
 * back to system memory</em> through its pgmap's {@code migrate_to_ram}. A GUP never returns a
 * device-private page. A special entry without a page is {@code -EFAULT}.
 *
 * <p>The fast variants walk the page table with neither the mmap lock nor the page-table lock
 * (the kernel disables interrupts; in the model the walk has no scheduling point), take each
 * page with {@code folio_try_get} and stop at the first entry that is not a present, normal,
 * allowed one (the zero page is special, so it stops there too); the rest of the range then
 * goes through the slow path under the mmap read lock, which they take themselves.
 *
 * <p>{@code FOLL_PIN} sets the mm's {@code MMF_HAS_PINNED} ({@link FolioPins#mmHasPinned}),
 * which makes fork copy pinned anonymous pages at once ({@link Fork}) and makes
 * {@code migrate_vma_setup} skip them.
 *
 * <p>Locking: {@link #getUserPages} and {@link #pinUserPages} need the mmap lock held (read is
 * enough; asserted) and may sleep (faults); the fast variants are called without it. The caller
 * holds an {@code mm_users} pin (the pin rule is checked at the page table). Pairs:
 * {@code FOLL_GET} references with {@link Page#put}, pins with {@link #unpinUserPages}.
 *
 * <p>Differences from the kernel:
 * <ul>
 *   <li>{@code FOLL_LONGTERM} migrates device-coherent pages to system memory and walks again
 *       ({@code check_and_migrate_movable_folios}, {@code migrate_device_coherent_folio}); the
 *       model has no ZONE_MOVABLE or CMA (see {@link #folioIsLongtermPinnable}). Device-private pages are never
 *       pinned, long-term or not: the fault brings them back first, as in the kernel.</li>
 *   <li>No {@code FOLL_FORCE}, {@code FOLL_NOWAIT}, {@code FOLL_NOFAULT}, {@code FOLL_UNLOCKABLE}
 *       (the mmap lock is never dropped), no {@code FAULT_FLAG_UNSHARE}: a read-only pin of an
 *       anonymous page shared with a child is not unshared first.</li>
 *   <li>The kernel retries a fault until it succeeds or a fatal signal arrives; the model gives
 *       up after {@value #MAX_FAULTS_PER_PAGE} faults on one page with {@code -EFAULT}.</li>
 *   <li>A PMD leaf (a THP) is followed as the kernel does ({@code follow_huge_pmd},
 *       {@code gup_fast_pmd_leaf}): the subpage of the address is taken, a write to a read-only
 *       leaf faults first (the huge COW), and the slow path marks the whole leaf young (and
 *       dirty for a write) as {@code touch_pmd} does ({@link #HUGE_FOLLOWED}). The fast walk
 *       leaves the huge zero page to the slow path.</li>
 *   <li>{@code FOLL_PIN} is an internal flag in both; its value here is the model's.</li>
 * </ul>
 */
public final class Gup {
    /** {@code FOLL_WRITE}: the pages will be written. */
    public static final int FOLL_WRITE = 0x01;
    /** {@code FOLL_GET}: take a page reference (set by the get_* calls). */
    public static final int FOLL_GET = 0x02;
    /** {@code FOLL_LONGTERM}: the pin may last indefinitely (RDMA, VFIO). */
    public static final int FOLL_LONGTERM = 0x100;
    /** {@code FOLL_PIN}: take a DMA pin (set by the pin_* calls; callers may not pass it). */
    public static final int FOLL_PIN = 1 << 20;

    /** Coverage mark: a GUP faulted a page in (a device-private page comes back to system memory here). */
    public static final Mark FAULTED = Mark.of("gup.faulted", "get_user_pages faulted a page in before taking it");
    /** Coverage mark: a long-term GUP met device-coherent pages, migrated them to system memory and retried. */
    public static final Mark LONGTERM_MIGRATED = Mark.of("gup.longterm.migrated",
            "A FOLL_LONGTERM get_user_pages migrated device-coherent pages to system memory and walked again");
    /** Coverage mark: a GUP took a subpage of a PMD leaf (a THP). */
    public static final Mark HUGE_FOLLOWED = Mark.of("gup.huge.followed",
            "get_user_pages took a subpage of a PMD-mapped THP (follow_huge_pmd)");
    /** Coverage mark: a fast GUP stopped at an entry it cannot take locklessly and fell back to the slow path. */
    public static final Mark FAST_FALLBACK = Mark.of("gup.fast.fallback",
            "A fast get_user_pages stopped at an entry it cannot take locklessly and fell back to the slow path");

    static final int MAX_FAULTS_PER_PAGE = 16;
    private static final int TAKEN = 0;
    private static final int NEEDS_FAULT = 1;
    private static final int CALLER_FLAGS = FOLL_WRITE | FOLL_LONGTERM;

    private Gup() {
    }

    /**
     * {@code get_user_pages}: a reference on each of the {@code nrPages} pages from
     * {@code start} in {@code mm}, stored in {@code pages}. Caller holds the mmap lock.
     *
     * @return the number of pages taken (fewer than asked when a later page failed), or a
     *         negated errno when the first one failed: {@code -EINVAL} for a flag other than
     *         {@code FOLL_WRITE}/{@code FOLL_LONGTERM}, {@code -EFAULT} for an address without
     *         a VMA or an access it does not allow, {@code -ENOMEM} when a fault found no memory
     */
    public static int getUserPages(MmStruct mm, long start, int nrPages, int gupFlags, Page[] pages) {
        if ((gupFlags & ~CALLER_FLAGS) != 0) {
            return -Errno.EINVAL;
        }
        mm.mmapAssertLocked();
        return getUserPagesLocked(mm, start, nrPages, gupFlags | FOLL_GET, pages, 0);
    }

    /**
     * {@code pin_user_pages}: as {@link #getUserPages}, with a DMA pin on each page instead of a
     * plain reference; release with {@link #unpinUserPages}. Caller holds the mmap lock.
     */
    public static int pinUserPages(MmStruct mm, long start, int nrPages, int gupFlags, Page[] pages) {
        if ((gupFlags & ~CALLER_FLAGS) != 0) {
            return -Errno.EINVAL;
        }
        mm.mmapAssertLocked();
        FolioPins.of(mm.kernel()).setHasPinned(mm);
        return getUserPagesLocked(mm, start, nrPages, gupFlags | FOLL_PIN, pages, 0);
    }

    /** {@code get_user_pages_fast}: {@link #getUserPages} without the caller holding the mmap lock. */
    public static int getUserPagesFast(MmStruct mm, long start, int nrPages, int gupFlags, Page[] pages) {
        if ((gupFlags & ~CALLER_FLAGS) != 0) {
            return -Errno.EINVAL;
        }
        return gupFastFallback(mm, start, nrPages, gupFlags | FOLL_GET, pages);
    }

    /** {@code pin_user_pages_fast}: {@link #pinUserPages} without the caller holding the mmap lock. */
    public static int pinUserPagesFast(MmStruct mm, long start, int nrPages, int gupFlags, Page[] pages) {
        if ((gupFlags & ~CALLER_FLAGS) != 0) {
            return -Errno.EINVAL;
        }
        FolioPins.of(mm.kernel()).setHasPinned(mm);
        return gupFastFallback(mm, start, nrPages, gupFlags | FOLL_PIN, pages);
    }

    /** {@code unpin_user_pages}: drops the pins of {@code pages[0..n)}. */
    public static void unpinUserPages(MmStruct mm, Page[] pages, int n) {
        FolioPins pins = FolioPins.of(mm.kernel());
        for (int i = 0; i < n; i++) {
            pins.unpin(pages[i]);
        }
    }

    /**
     * {@code folio_is_longterm_pinnable}: every page of system memory is (the model has no
     * ZONE_MOVABLE or CMA); a device-coherent page is not. A device-private page is not, but is
     * never reached (it is faulted back first).
     */
    public static boolean folioIsLongtermPinnable(Page page) {
        return !page.isDevicePrivate() && !ZoneDevice.isDeviceCoherentPage(page);
    }

    /** {@code gup_fast_fallback}: the lockless walk, then the slow path for the rest under the mmap read lock. */
    private static int gupFastFallback(MmStruct mm, long start, int nrPages, int flags, Page[] pages) {
        int nrPinned = gupFast(mm, start, nrPages, flags, pages);
        if (nrPinned == nrPages) {
            return nrPinned;
        }
        mm.kernel().mark(FAST_FALLBACK);
        int ret;
        mm.mmapReadLock();
        try {
            ret = getUserPagesLocked(mm, start + ((long) nrPinned << Pte.PAGE_SHIFT), nrPages - nrPinned, flags, pages,
                    nrPinned);
        } finally {
            mm.mmapReadUnlock();
        }
        if (ret < 0) {
            return nrPinned > 0 ? nrPinned : ret;
        }
        return nrPinned + ret;
    }

    /** {@code gup_fast}: takes pages from present, normal, allowed entries until the first other one. */
    private static int gupFast(MmStruct mm, long start, int nrPages, int flags, Page[] pages) {
        PageTable pt = mm.pgd("gup_fast");
        PhysMem phys = PhysMem.of(mm.kernel());
        FolioPins pins = (flags & FOLL_PIN) != 0 ? FolioPins.of(mm.kernel()) : null;
        boolean write = (flags & FOLL_WRITE) != 0;
        for (int i = 0; i < nrPages; i++) {
            long addr = start + ((long) i << Pte.PAGE_SHIFT);
            if (addr < 0 || addr >= Pte.TASK_SIZE) {
                return i;
            }
            long pte = pt.get(addr);
            if (!Pte.isPresent(pte) || Pte.isProtNone(pte) || Pte.isSpecial(pte)
                    || (write && !Pte.isWrite(pte))
                    || (Pte.isHuge(pte) && isHugeZero(phys, pte))) {
                return i;
            }
            Page page = phys.pfnToPage(Pte.pfn(pte));
            if (!page.tryGet()) {
                return i;
            }
            if (pt.get(addr) != pte || ((flags & FOLL_LONGTERM) != 0 && !folioIsLongtermPinnable(page))) {
                page.put();
                return i;
            }
            if (pins != null) {
                pins.pinGrabbed(page);
            }
            pages[i] = page;
        }
        return nrPages;
    }

    /**
     * {@code __gup_longterm_locked}: for {@code FOLL_LONGTERM}, the pages are taken, and if any
     * is not long-term pinnable (device-coherent memory), all are released, those pages are
     * migrated to system memory ({@code check_and_migrate_movable_folios}) and the walk runs
     * again ({@link #LONGTERM_MIGRATED}); a page that cannot be migrated fails the call with
     * {@code -EBUSY}. Mmap lock held.
     */
    private static int getUserPagesLocked(MmStruct mm, long start, int nrPages, int flags, Page[] pages, int offset) {
        if ((flags & FOLL_LONGTERM) == 0) {
            return getUserPagesWalk(mm, start, nrPages, flags, pages, offset);
        }
        for (int attempt = 0; ; attempt++) {
            int n = getUserPagesWalk(mm, start, nrPages, flags, pages, offset);
            if (n <= 0) {
                return n;
            }
            java.util.List<Page> unpinnable = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (!folioIsLongtermPinnable(pages[offset + i])) {
                    unpinnable.add(pages[offset + i]);
                }
            }
            if (unpinnable.isEmpty()) {
                return n;
            }
            if (attempt == MAX_FAULTS_PER_PAGE) {
                release(mm, flags, pages, offset, n);
                return -Errno.ENOMEM;
            }
            mm.kernel().mark(LONGTERM_MIGRATED);
            for (Page p : unpinnable) {
                p.get();
            }
            release(mm, flags, pages, offset, n);
            for (int i = 0; i < unpinnable.size(); i++) {
                if (MigrateDevice.migrateDeviceCoherentFolio(mm.kernel(), unpinnable.get(i)) != 0) {
                    for (int j = i + 1; j < unpinnable.size(); j++) {
                        unpinnable.get(j).put();
                    }
                    return -Errno.EBUSY;
                }
            }
        }
    }

    /** Drops what a walk took: the pins, or the references. */
    private static void release(MmStruct mm, int flags, Page[] pages, int offset, int n) {
        FolioPins pins = FolioPins.of(mm.kernel());
        for (int i = 0; i < n; i++) {
            if ((flags & FOLL_PIN) != 0) {
                pins.unpin(pages[offset + i]);
            } else {
                pages[offset + i].put();
            }
            pages[offset + i] = null;
        }
    }

    /** {@code __get_user_pages_locked}: page by page from {@code pages[offset]}; mmap lock held. */
    private static int getUserPagesWalk(MmStruct mm, long start, int nrPages, int flags, Page[] pages, int offset) {
        FolioPins pins = (flags & FOLL_PIN) != 0 ? FolioPins.of(mm.kernel()) : null;
        for (int i = 0; i < nrPages; i++) {
            long addr = start + ((long) i << Pte.PAGE_SHIFT);
            int err = getOne(mm, addr, flags, pins, pages, offset + i);
            if (err < 0) {
                return i > 0 ? i : err;
            }
        }
        return nrPages;
    }

    /** One page: VMA checks, then follow the entry or fault and follow again. */
    private static int getOne(MmStruct mm, long addr, int flags, FolioPins pins, Page[] pages, int index) {
        if (addr < 0 || addr >= Pte.TASK_SIZE) {
            return -Errno.EFAULT;
        }
        Vma vma = mm.vmaLookup(addr);
        if (vma == null) {
            return -Errno.EFAULT;
        }
        boolean write = (flags & FOLL_WRITE) != 0;
        if (vma.hasAny(VmFlags.VM_IO | VmFlags.VM_PFNMAP) || !vma.hasAny(write ? VmFlags.VM_WRITE : VmFlags.VM_READ)) {
            return -Errno.EFAULT;
        }
        PhysMem phys = PhysMem.of(mm.kernel());
        for (int faults = 0; ; faults++) {
            int r = followPage(mm, phys, addr, write, pins, pages, index);
            if (r != NEEDS_FAULT) {
                return r;
            }
            if (faults == MAX_FAULTS_PER_PAGE) {
                return -Errno.EFAULT;
            }
            mm.kernel().mark(FAULTED);
            int ret = Fault.handleMmFault(mm, vma, addr, write ? Fault.FAULT_FLAG_WRITE : 0);
            if ((ret & Fault.VM_FAULT_OOM) != 0) {
                return -Errno.ENOMEM;
            }
            if ((ret & Fault.VM_FAULT_ERROR) != 0) {
                return -Errno.EFAULT;
            }
        }
    }

    /** True when a leaf's entry maps the huge zero page (the fast walk leaves it to the slow path). */
    private static boolean isHugeZero(PhysMem phys, long pte) {
        long zero = phys.hugeZeroPfnIfAllocated();
        return zero != 0 && (Pte.pfn(pte) & -(long) HugeMemory.HPAGE_PMD_NR) == zero;
    }

    /** {@code follow_page_pte} under the page-table lock: {@link #TAKEN}, {@link #NEEDS_FAULT} or {@code -EFAULT}. */
    private static int followPage(MmStruct mm, PhysMem phys, long addr, boolean write, FolioPins pins, Page[] pages,
                                  int index) {
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("follow_page");
            long page = addr & Pte.PAGE_MASK;
            long pte = pt.get(page);
            if (!Pte.isPresent(pte) || Pte.isProtNone(pte) || (write && !Pte.isWrite(pte))) {
                return NEEDS_FAULT;
            }
            Page p;
            if (Pte.isZero(pte)) {
                p = phys.zeroPage();
            } else if (Pte.isSpecial(pte) && !(Pte.isHuge(pte) && isHugeZero(phys, pte))) {
                return -Errno.EFAULT;
            } else {
                p = phys.pfnToPage(Pte.pfn(pte));
            }
            if (pins != null) {
                pins.pin(p);
            } else {
                p.get();
            }
            if (Pte.isHuge(pte)) {
                mm.kernel().mark(HUGE_FOLLOWED);
                pt.updatePmdLeaf(page & Pte.PMD_MASK, e -> write ? Pte.mkDirty(Pte.mkYoung(e)) : Pte.mkYoung(e));
            } else {
                pt.set(page, write ? Pte.mkDirty(Pte.mkYoung(pte)) : Pte.mkYoung(pte));
            }
            pages[index] = p;
            return TAKEN;
        } finally {
            ptl.unlock();
        }
    }
}
