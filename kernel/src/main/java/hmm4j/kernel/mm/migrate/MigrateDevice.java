package hmm4j.kernel.mm.migrate;

import hmm4j.kernel.KernelRules;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.MigrationEntryWait;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.OomKill;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageStateChecks;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;
import java.util.Arrays;

/**
 * Migration to and from device-private memory (mm/migrate_device.c): the three calls of a
 * {@link MigrateVma} ({@code migrate_vma_setup}, {@code migrate_vma_pages},
 * {@code migrate_vma_finalize}) and the device-side eviction calls
 * ({@code migrate_device_range}, {@code migrate_device_pfns}, {@code migrate_device_pages},
 * {@code migrate_device_finalize}).
 *
 * <p>Overview, in the order a driver calls them (mm/migrate_device.c):
 * <ol>
 *   <li>{@link #migrateVmaSetup}: checks the arguments, collects the candidate pages under an
 *       {@code MMU_NOTIFY_MIGRATE} invalidation owned by {@code pgmap_owner}
 *       ({@link MigrateCollect}), locks them and replaces their entries with migration
 *       entries, unmaps the rest of their mappings and gives back the ones that cannot
 *       migrate ({@link MigrationEntries#unmap}).</li>
 *   <li>The driver allocates and locks a destination page for each {@code src} entry marked
 *       {@code MIGRATE} (device pages with {@link DevPagemap#zoneDevicePageInit}), copies or
 *       clears it, and stores {@code MigratePfn.migratePfn(page.pfn())} in {@code dst}.</li>
 *   <li>{@link #migrateVmaPages}: commits — the destination takes the source's identity
 *       (anonymous, dirty), and a hole gets its new page mapped, unless a CPU fault filled it
 *       first; what cannot be committed loses {@code MIGRATE}.</li>
 *   <li>The driver updates its own tables for the entries still marked {@code MIGRATE}.</li>
 *   <li>{@link #migrateVmaFinalize}: every migration entry becomes a mapping of the new page
 *       (or of the old one again), pages are unlocked and the migration's references dropped
 *       (a device page's last one runs its {@code page_free}), and the sleepers in
 *       {@code migration_entry_wait} are woken.</li>
 * </ol>
 *
 * <p>Locking: the caller of the {@code migrate_vma} calls holds the mmap lock (read or
 * write, asserted) from setup to finalize, and an {@code mm_users} pin (the pin rule, checked
 * when the page table is reached). The {@code migrate_device} calls need neither: they start
 * from device pfns and reach the mappings through the device rmap. All of them may sleep
 * (invalidation callbacks); none may be called under a spinlock or a lock that an
 * invalidation callback of the same mm takes.
 *
 * <p>Accounting: a mapped page holds one reference and one mapcount per mapping; a page under
 * migration holds one reference for the migration (plus the fault handler's, for the fault
 * page). After finalize every page has exactly its mappings' references again, so nothing
 * leaks and a device page that lost its last mapping goes back to its driver.
 */
public final class MigrateDevice {
    private MigrateDevice() {
    }

    /**
     * {@code migrate_vma_setup}: prepares the migration described by {@code args}. On success
     * {@code src[0..npages)} holds the collected entries ({@link MigratePfn}), {@code dst} is
     * zeroed, {@code npages} is the number of pages of the range and {@code cpages} the number
     * collected and unmapped (possibly 0). Collected pages are locked and unmapped until
     * {@link #migrateVmaFinalize}. Caller holds the mmap lock and a pin; may sleep.
     *
     * @return 0, or {@code -EINVAL}: no mm or VMA; a hugetlb or special
     *         ({@code VM_IO}/{@code VM_PFNMAP}/{@code VM_MIXEDMAP}/{@code VM_DONTEXPAND}) VMA;
     *         an empty range (fewer than {@code PAGE_SIZE} bytes from {@code start} to
     *         {@code end}, before they are rounded down to pages) or one not inside the VMA; missing or short arrays; a fault page
     *         that is not a locked device-private page; a VMA already unmapped (also
     *         reported, as a use-after-free of the VMA: the kernel's KASAN would catch it)
     * @throws IllegalStateException if {@code args} was set up before (see {@link MigrateVma})
     */
    public static int migrateVmaSetup(MigrateVma args) {
        if (args.stage() != MigrateVma.Stage.NEW) {
            throw new IllegalStateException("migrate_vma_setup on a migrate_vma in stage " + args.stage());
        }
        MmStruct mm = args.mm();
        Vma vma = args.vma();
        if (mm == null || vma == null || vma.hasAny(VmFlags.VM_HUGETLB | VmFlags.VM_SPECIAL)) {
            return -Errno.EINVAL;
        }
        long start = args.start() & Pte.PAGE_MASK;
        long end = args.end() & Pte.PAGE_MASK;
        // As the kernel, the emptiness test counts the pages of the range as given, before
        // its ends are rounded down: less than a page across a page boundary is empty.
        long given = (args.end() - args.start()) >> Pte.PAGE_SHIFT;
        long nr = (end - start) >> Pte.PAGE_SHIFT;
        if (given <= 0 || nr > Integer.MAX_VALUE) {
            return -Errno.EINVAL;
        }
        if (start < vma.vmStart() || start >= vma.vmEnd() || end <= vma.vmStart() || end > vma.vmEnd()) {
            return -Errno.EINVAL;
        }
        int nrPages = (int) nr;
        if (args.src() == null || args.dst() == null || args.src().length < nrPages || args.dst().length < nrPages) {
            return -Errno.EINVAL;
        }
        Page faultPage = args.faultPage();
        if (faultPage != null && (!faultPage.isDevicePrivate() || !faultPage.isLocked())) {
            return -Errno.EINVAL;
        }
        if (vma.state() != Vma.State.LINKED) {
            Kernel k = mm.kernel();
            k.report(new Failure.UseAfterFree(vma.toString(), "migrate_vma_setup", vma.linkSite(), vma.unlinkSite(),
                    k.site()));
            return -Errno.EINVAL;
        }
        mm.mmapAssertLocked();
        PageTable pt = mm.pgd("migrate_vma_setup");
        args.setRange(start, end);
        Arrays.fill(args.src(), 0, nrPages, 0L);
        Arrays.fill(args.dst(), 0, nrPages, 0L);
        args.setNpages(0);
        args.setCpages(0);
        int collected = MigrateCollect.collect(args, pt, nrPages);
        args.setNpages(nrPages);
        args.setRange(start, start + ((long) nrPages << Pte.PAGE_SHIFT));
        int cpages = 0;
        if (collected > 0) {
            cpages = MigrationEntries.unmap(mm.kernel(), args.src(), nrPages, faultPage, places(args, pt));
        }
        args.setCpages(cpages);
        args.advance(MigrateVma.Stage.NEW, MigrateVma.Stage.SET_UP, "migrate_vma_setup");
        PageStateChecks checks = PageStateChecks.recording(mm.kernel());
        if (checks != null) {
            checks.migrationSetUp(args, "migrate_vma of [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(args.end()) + ") in " + mm.name(), mm.kernel().site());
        }
        return 0;
    }

    /**
     * {@code migrate_vma_pages}: commits the migration of every {@code src} entry marked
     * {@code MIGRATE} whose {@code dst} names a locked destination page; clears
     * {@code MIGRATE} for the others (no destination; a file page to device memory; an extra
     * reference taken meanwhile; a hole a CPU fault filled first). Holes are filled under one
     * more {@code MMU_NOTIFY_MIGRATE} invalidation, from the first hole to the end. Caller
     * holds the mmap lock and a pin; may sleep. A destination page that is not locked is
     * reported (finalize would unlock it: the kernel's {@code VM_BUG_ON_FOLIO} in
     * {@code folio_unlock}) and its entry is not migrated.
     *
     * @throws IllegalStateException if called out of order (see {@link MigrateVma})
     */
    public static void migrateVmaPages(MigrateVma args) {
        args.advance(MigrateVma.Stage.SET_UP, MigrateVma.Stage.PAGES_MIGRATED, "migrate_vma_pages");
        args.mm().mmapAssertLocked();
        commit(args.mm().kernel(), args.src(), args.dst(), args.npages(), args);
    }

    /**
     * {@code migrate_vma_finalize}: replaces every migration entry with a mapping of the new
     * page ({@code MIGRATE} still set) or of the old one, unlocks the pages (not the fault
     * page, which its fault handler unlocks), drops the migration's references, and wakes
     * the tasks waiting on the migration entries. Caller holds the mmap lock and a pin; may
     * sleep.
     */
    public static void migrateVmaFinalize(MigrateVma args) {
        args.advance(MigrateVma.Stage.PAGES_MIGRATED, MigrateVma.Stage.FINALIZED, "migrate_vma_finalize");
        MmStruct mm = args.mm();
        mm.mmapAssertLocked();
        PageTable pt = mm.pgd("migrate_vma_finalize");
        finalizeAll(mm.kernel(), args.src(), args.dst(), args.npages(), args.faultPage(), places(args, pt));
        PageStateChecks checks = PageStateChecks.recording(mm.kernel());
        if (checks != null) {
            checks.migrationFinished(args);
        }
    }

    // ---- device-side eviction ----

    /**
     * {@code migrate_device_range}: collects the device-private pages of pfns
     * [{@code startPfn}, {@code startPfn + npages}) for migration back to system memory,
     * wherever they are mapped: each page in use is referenced, locked (pages whose lock is
     * taken are skipped), unmapped through the device rmap and checked. {@code src[i]} is
     * {@code migratePfn(pfn) | MIGRATE}, or 0. Then the driver fills {@code dst} with locked
     * system pages and calls {@link #migrateDevicePages} and {@link #migrateDeviceFinalize}.
     * Needs no mmap lock; may sleep.
     *
     * @return 0
     */
    public static int migrateDeviceRange(Kernel kernel, long[] src, long startPfn, int npages) {
        for (int i = 0; i < npages; i++) {
            src[i] = startPfn + i;
        }
        return migrateDevicePfns(kernel, src, npages);
    }

    /**
     * {@code migrate_device_pfns}: as {@link #migrateDeviceRange} for the pfns given in
     * {@code src[0..npages)} (plain pfns on input, {@link MigratePfn} entries on output).
     *
     * @return 0
     */
    public static int migrateDevicePfns(Kernel kernel, long[] src, int npages) {
        PhysMem phys = PhysMem.of(kernel);
        kernel.syncObserver().mightSleep(kernel.current(), "migrate_device_pfns");
        for (int i = 0; i < npages; i++) {
            Page page = phys.pfnToPage(src[i]);
            int nr = page == null || page.pgmap() == null ? 1 : 1 << page.pgmap().folioOrder(page);
            src[i] = migrateDevicePfnLock(phys, page, nr);
            if (nr > 1) {
                // A large folio: one compound entry for its head, its tails 0 and skipped.
                if (src[i] != 0) {
                    src[i] |= MigratePfn.MIGRATE_PFN_COMPOUND;
                }
                for (int j = 1; j < nr && i + j < npages; j++) {
                    src[i + j] = 0;
                }
                i += nr - 1;
            }
        }
        MigrationEntries.unmap(kernel, src, npages, null, null);
        PageStateChecks checks = PageStateChecks.recording(kernel);
        if (checks != null) {
            checks.migrationSetUp(src, "migrate_device_pfns of " + npages + " pages", kernel.site());
        }
        return 0;
    }

    /**
     * {@code migrate_device_pfn_lock}: a reference on every page of the folio of {@code nr}
     * pages at {@code page} (the model counts them per page; a large folio's through
     * {@link DevPagemap#folioTryGet}, which succeeds while any of its pages is in use, as the
     * kernel's {@code folio_try_get}) and its lock, giving
     * {@code migratePfn | MIGRATE}; 0 for a page that is no device page, idle, a tail of a large
     * folio, or locked.
     */
    private static long migrateDevicePfnLock(PhysMem phys, Page page, int nr) {
        if (page == null || page.pgmap() == null || page.pgmap().folioHead(page) != page) {
            return 0;
        }
        if (nr > 1 ? !page.pgmap().folioTryGet(page) : !page.tryGet()) {
            return 0;
        }
        if (!page.trylock()) {
            MigrationEntries.putFolio(phys, page, nr);
            return 0;
        }
        return MigratePfn.migratePfn(page.pfn()) | MIGRATE_PFN_MIGRATE;
    }

    /** {@code migrate_device_pages}: {@link #migrateVmaPages} for entries from {@link #migrateDeviceRange}. */
    public static void migrateDevicePages(Kernel kernel, long[] src, long[] dst, int npages) {
        commit(kernel, src, dst, npages, null);
    }

    /** {@code migrate_device_finalize}: {@link #migrateVmaFinalize} for entries from {@link #migrateDeviceRange}. */
    public static void migrateDeviceFinalize(Kernel kernel, long[] src, long[] dst, int npages) {
        finalizeAll(kernel, src, dst, npages, null, null);
        PageStateChecks checks = PageStateChecks.recording(kernel);
        if (checks != null) {
            checks.migrationFinished(src);
        }
    }

    /**
     * {@code migrate_device_coherent_folio}: moves one device-coherent page to a new system page
     * (a long-term pin must not keep device memory busy). The page is locked, unmapped behind a
     * migration entry, copied and finalized as a one-entry device-range migration. Consumes
     * one reference the caller holds on {@code page}. Needs no mmap lock; may sleep.
     *
     * @return 0, or {@code -EBUSY} when the page could not be unmapped (another reference) or
     *         no system page was free
     */
    public static int migrateDeviceCoherentFolio(Kernel kernel, Page page) {
        kernel.syncObserver().mightSleep(kernel.current(), "migrate_device_coherent_folio");
        page.lock();
        long[] src = {MigratePfn.migratePfn(page.pfn()) | MIGRATE_PFN_MIGRATE};
        long[] dst = {0};
        MigrationEntries.unmap(kernel, src, 1, null, null);
        if ((src[0] & MIGRATE_PFN_MIGRATE) == 0) {
            return -Errno.EBUSY;
        }
        Page dpage = PhysMem.of(kernel).allocPage();
        if (dpage != null) {
            dpage.lock();
            dst[0] = MigratePfn.migratePfn(dpage.pfn());
        }
        commit(kernel, src, dst, 1, null);
        if ((src[0] & MIGRATE_PFN_MIGRATE) != 0) {
            dpage.copyFrom(page);
        }
        finalizeAll(kernel, src, dst, 1, null, null);
        return (src[0] & MIGRATE_PFN_MIGRATE) != 0 ? 0 : -Errno.EBUSY;
    }

    // ---- the shared steps ----

    private static MigrationEntries.Places places(MigrateVma args, PageTable pt) {
        return new MigrationEntries.Places(args.mm(), pt, args.vma(), args.start());
    }

    /** {@code __migrate_device_pages}; {@code args} is null for the device-range calls. */
    private static void commit(Kernel k, long[] src, long[] dst, int npages, MigrateVma args) {
        PhysMem phys = PhysMem.of(k);
        Page faultPage = args == null ? null : args.faultPage();
        MmuNotifierRange range = null;
        for (int i = 0; i < npages; ) {
            Page newPage = MigratePfn.migratePfnToPage(phys, dst[i]);
            Page page = MigratePfn.migratePfnToPage(phys, src[i]);
            int nr = 1;
            if (newPage == null) {
                src[i] &= ~MIGRATE_PFN_MIGRATE;
                i++;
                continue;
            }
            if (!newPage.isLocked()) {
                k.report(new Failure.InvariantViolation(KernelRules.MIGRATE_DESTINATION_LOCKED,
                        "migrate_vma_pages: destination " + i + " is not locked: " + newPage, k.site()));
                src[i] &= ~MIGRATE_PFN_MIGRATE;
                i++;
                continue;
            }
            if ((src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                i++;
                continue;
            }
            boolean srcCompound = (src[i] & MIGRATE_PFN_COMPOUND) != 0;
            boolean dstCompound = (dst[i] & MIGRATE_PFN_COMPOUND) != 0;
            if (page == null) {
                if (args == null) {
                    src[i] &= ~MIGRATE_PFN_MIGRATE;
                    i++;
                    continue;
                }
                long addr = args.start() + ((long) i << Pte.PAGE_SHIFT);
                if (range == null) {
                    range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_MIGRATE, 0, args.mm(), addr, args.end(),
                            args.pgmapOwner());
                    range.invalidateRangeStart();
                }
                if (srcCompound && dstCompound) {
                    MigrateHuge.insertHugePmdPage(args, addr, newPage, i);
                    i++;
                    continue;
                }
                if (srcCompound) {
                    // A compound hole filled with base pages, one by one.
                    nr = HugeMemory.HPAGE_PMD_NR;
                    src[i] &= ~MIGRATE_PFN_COMPOUND;
                }
                for (int j = 0; j < nr && i + j < npages; j++) {
                    src[i + j] |= MIGRATE_PFN_MIGRATE;
                    Page p = MigratePfn.migratePfnToPage(phys, dst[i + j]);
                    if (p == null || !insertPage(args, addr + ((long) j << Pte.PAGE_SHIFT), p)) {
                        src[i + j] &= ~MIGRATE_PFN_MIGRATE;
                    }
                }
                i += nr;
                continue;
            }
            if (srcCompound && !dstCompound) {
                if (args == null) {
                    src[i] &= ~(MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND);
                    i++;
                    continue;
                }
                MigrateHuge.splitUnmappedFolio(args, i, page);
                nr = HugeMemory.HPAGE_PMD_NR;
            } else if (dstCompound && !srcCompound) {
                src[i] &= ~MIGRATE_PFN_MIGRATE;
                i++;
                continue;
            }
            if (page.mapping() != null || (newPage.pgmap() != null && !page.isAnon())) {
                src[i] &= ~MIGRATE_PFN_MIGRATE;
                i += nr;
                continue;
            }
            // folio_migrate_mapping: a compound pair is one folio of 512 pages (the model checks
            // each page's count); a split source is checked entry by entry.
            int pages = srcCompound && dstCompound ? HugeMemory.HPAGE_PMD_NR : 1;
            for (int j = 0; j < nr && i + j < npages; j++) {
                Page sp = MigratePfn.migratePfnToPage(phys, src[i + j]);
                Page dp = MigratePfn.migratePfnToPage(phys, dst[i + j]);
                if (sp == null || dp == null || !migrateMapping(k, phys, sp, dp, pages, faultPage)) {
                    src[i + j] &= ~MIGRATE_PFN_MIGRATE;
                }
            }
            i += nr;
        }
        if (range != null) {
            range.invalidateRangeEnd();
        }
    }

    /**
     * {@code folio_migrate_mapping} + {@code folio_migrate_flags} for {@code pages} pages from
     * {@code page} to {@code newPage}: false if a page's count changed since the collection.
     */
    private static boolean migrateMapping(Kernel k, PhysMem phys, Page page, Page newPage, int pages, Page faultPage) {
        for (int j = 0; j < pages; j++) {
            Page sp = phys.pfnToPage(page.pfn() + j);
            int expected = 1 + (sp == faultPage ? 1 : 0);
            if (sp.refcount() != expected) {
                k.mark(MigrateVma.PAGES_REFCOUNT_SKIP);
                return false;
            }
        }
        for (int j = 0; j < pages; j++) {
            Page sp = phys.pfnToPage(page.pfn() + j);
            Page dp = phys.pfnToPage(newPage.pfn() + j);
            if (sp.isAnon()) dp.setFlag(Page.PG_ANON);
            if (sp.isSwapBacked()) dp.setFlag(Page.PG_SWAPBACKED);
            if (sp.isDirty()) dp.setFlag(Page.PG_DIRTY);
        }
        return true;
    }

    /**
     * {@code migrate_vma_insert_page}: maps {@code page} where a hole was collected, if the
     * entry is still none or the zero page. A device page is mapped by a device-private entry,
     * an ordinary page by a present one, writable if the VMA is. False if the race was lost.
     */
    private static boolean insertPage(MigrateVma args, long addr, Page page) {
        Vma vma = args.vma();
        if (!vma.isAnonymous()) {
            return false;
        }
        MmStruct mm = args.mm();
        PageTable pt = mm.pgd("migrate_vma_pages");
        if (pt.pmdLeafCount() != 0) {
            // A huge zero PMD is split first (split_huge_pmd); any other leaf is not a hole.
            SpinLock l = mm.pageTableLock();
            l.lock();
            boolean leaf = pt.isPmdLeaf(addr);
            boolean zero = leaf && Pte.isPresent(pt.pmdLeaf(addr)) && Pte.isSpecial(pt.pmdLeaf(addr));
            l.unlock();
            if (leaf && !zero) {
                return false;
            }
            if (zero) {
                HugeMemory.splitHugePmd(mm, addr);
            }
        }
        boolean write = vma.hasAny(VmFlags.VM_WRITE);
        long entry = page.isDevicePrivate() ? Pte.mkDevicePrivate(page.pfn(), write)
                : write ? Pte.mkDirty(Pte.mkPresent(page.pfn(), true)) : Pte.mkPresent(page.pfn(), false);
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            long old = pt.get(addr);
            if (!Pte.isNone(old) && !Pte.isZero(old)) {
                return false;
            }
            if (OomKill.checkStableAddressSpace(mm) != 0) {
                return false;
            }
            page.setFlag(Page.PG_ANON | Page.PG_SWAPBACKED);
            page.get();
            page.incMapcount();
            pt.set(addr, entry);
            if (page.pgmap() != null) {
                page.pgmap().rmapAdd(page, mm, pt, addr);
            }
            return true;
        } finally {
            ptl.unlock();
        }
    }

    /** {@code migrate_device_finalize}; {@code places} is null for the device-range calls. */
    private static void finalizeAll(Kernel k, long[] src, long[] dst, int npages, Page faultPage,
                                    MigrationEntries.Places places) {
        PhysMem phys = PhysMem.of(k);
        for (int i = 0; i < npages; i++) {
            Page newPage = MigratePfn.migratePfnToPage(phys, dst[i]);
            Page page = MigratePfn.migratePfnToPage(phys, src[i]);
            int dstNr = (dst[i] & MigratePfn.MIGRATE_PFN_COMPOUND) != 0 ? HugeMemory.HPAGE_PMD_NR : 1;
            if (page == null) {
                if (newPage != null) {
                    newPage.unlock();
                    MigrationEntries.putFolio(phys, newPage, dstNr);
                }
                continue;
            }
            int nr = MigrationEntries.folioNrPages(page, src[i]);
            Page target = newPage;
            if ((src[i] & MIGRATE_PFN_MIGRATE) == 0 || newPage == null) {
                if (newPage != null) {
                    newPage.unlock();
                    MigrationEntries.putFolio(phys, newPage, dstNr);
                }
                target = page;
            }
            MigrationEntries.removeMigrationPtes(page, target, places, i, nr);
            if (page != faultPage) {
                page.unlock();
            }
            MigrationEntries.putFolio(phys, page, nr);
            if (target != page) {
                target.unlock();
                MigrationEntries.putFolio(phys, target, nr);
            }
        }
        MigrationEntryWait.wakeUpMigrationWaiters(k);
    }
}
