package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;

import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.MigrationEntryWait;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageStateChecks;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import java.util.List;

/**
 * Installing and removing migration entries for pages that are being migrated: the unmap step
 * shared by {@code migrate_vma} and {@code migrate_device_range} ({@code migrate_device_unmap},
 * {@code try_to_migrate}, {@code migrate_vma_check_page}) and the restore step of finalize
 * ({@code remove_migration_ptes}), from mm/migrate_device.c, mm/rmap.c and mm/migrate.c.
 *
 * <p>Overview. A page under migration is locked and held by one reference of the migration;
 * its mappings are migration entries naming it, so that CPU faults wait
 * ({@link MigrationEntryWait}). Where those entries are: a device-private page's places are in
 * its pgmap's device rmap ({@link DevPagemap}), in any address space; an ordinary page has a
 * single one, the place where {@code migrate_vma} collected it ({@link Places}), because a page
 * still mapped anywhere else cannot be unmapped without an rmap and is not migrated.
 *
 * <p>Locking. Page-table locks are taken one at a time, never nested; invalidations are
 * issued with none held (callbacks may sleep). The places of another address space are
 * reached through the device rmap, whose walk pins each mm structure ({@code mmgrab}) and
 * needs no {@code mm_users} pin, as the kernel's rmap walks do.
 *
 * <p>Folios. A compound entry ({@link MigratePfn#MIGRATE_PFN_COMPOUND}, or the head of a large
 * device folio) stands for its 512 pages: they are checked, unmapped, restored and released
 * together, through their migration PMD where they have one ({@link MigrateHuge}).
 *
 * <p>Differences from the kernel: no LRU isolation, no swap cache; an ordinary page is
 * migrated only if the collecting mapping was its last one; restored entries are young-less
 * and take PROT_NONE only where the place's VMA is known (the collecting VMA).
 */
final class MigrationEntries {

    /**
     * The one place of each collected ordinary page of a {@code migrate_vma}: entry
     * {@code i} was collected at {@code start + i * PAGE_SIZE} of {@code pgd} in {@code mm},
     * inside {@code vma}.
     */
    record Places(MmStruct mm, PageTable pgd, Vma vma, long start) {
        long addr(int i) {
            return start + ((long) i << Pte.PAGE_SHIFT);
        }
    }

    private MigrationEntries() {
    }

    /**
     * {@code migrate_device_unmap}: for every collected page, unmaps what is still mapped
     * (device pages through the rmap), checks that nobody else holds it, and gives the pages
     * that cannot migrate their entries back (their {@code src} entry becomes 0, lock and
     * migration reference dropped). Holes marked MIGRATE count as unmapped.
     *
     * @param places the collection places, or null when every page is device-private
     * @return the number of entries still to migrate ({@code cpages})
     */
    static int unmap(Kernel k, long[] src, int npages, Page faultPage, Places places) {
        PhysMem phys = PhysMem.of(k);
        int unmapped = 0;
        int restore = 0;
        for (int i = 0; i < npages; ) {
            Page page = MigratePfn.migratePfnToPage(phys, src[i]);
            if (page == null) {
                if ((src[i] & MIGRATE_PFN_MIGRATE) != 0) {
                    unmapped++;
                }
                i++;
                continue;
            }
            int nr = folioNrPages(page, src[i]);
            if (nr > 1) {
                src[i] |= MIGRATE_PFN_COMPOUND;
            }
            if (folioMapped(phys, page, nr) && page.pgmap() != null) {
                tryToMigrate(page, nr);
            }
            if (folioMapped(phys, page, nr) || !checkFolio(phys, page, nr, faultPage)) {
                k.mark(MigrateVma.UNMAP_RESTORE);
                src[i] &= ~MIGRATE_PFN_MIGRATE;
                restore++;
                i += nr;
                continue;
            }
            unmapped++;
            i += nr;
        }
        boolean restored = restore > 0;
        for (int i = 0; i < npages && restore > 0; i++) {
            Page page = MigratePfn.migratePfnToPage(phys, src[i]);
            if (page == null || (src[i] & MIGRATE_PFN_MIGRATE) != 0) {
                continue;
            }
            int nr = folioNrPages(page, src[i]);
            removeMigrationPtes(page, page, places, i, nr);
            src[i] = 0;
            if (page != faultPage) {
                page.unlock();
            }
            putFolio(phys, page, nr);
            restore--;
        }
        if (restored) {
            MigrationEntryWait.wakeUpMigrationWaiters(k);
        }
        return unmapped;
    }

    /**
     * {@code folio_nr_pages} of the folio an entry names: 512 for a compound entry (a system
     * THP has no folio object in the model: the flag is what says so) or the head of a large
     * device folio, else 1.
     */
    static int folioNrPages(Page page, long mpfn) {
        if ((mpfn & MIGRATE_PFN_COMPOUND) != 0) {
            return HugeMemory.HPAGE_PMD_NR;
        }
        return page.pgmap() != null ? 1 << page.pgmap().folioOrder(page) : 1;
    }

    /** {@code folio_mapped}: some page of the {@code nr} pages from {@code head} is mapped. */
    static boolean folioMapped(PhysMem phys, Page head, int nr) {
        for (int k = 0; k < nr; k++) {
            if (phys.pfnToPage(head.pfn() + k).mapcount() > 0) {
                return true;
            }
        }
        return false;
    }

    /** {@link #checkPage} for every page of the folio. */
    static boolean checkFolio(PhysMem phys, Page head, int nr, Page faultPage) {
        for (int k = 0; k < nr; k++) {
            if (!checkPage(phys.pfnToPage(head.pfn() + k), faultPage)) {
                return false;
            }
        }
        return true;
    }

    /** {@code folio_put} of a folio of {@code nr} pages: one reference of each page (the model counts per page). */
    static void putFolio(PhysMem phys, Page head, int nr) {
        for (int k = nr - 1; k >= 0; k--) {
            phys.pfnToPage(head.pfn() + k).put();
        }
    }

    /**
     * {@code migrate_vma_check_page}: nobody but the migration (and the fault handler, for
     * the fault page; and the page cache, for a file page) holds a reference beyond the
     * page's mappings. A ZONE_DEVICE page (device-private or coherent) is allowed one more
     * reference than that, as in the kernel ({@code folio_is_zone_device}: the allowance
     * dates from when such pages held an extra reference while in use; the model's, like
     * today's kernel's, do not, so one unexplained reference on a device page, e.g. a
     * driver's {@code get_page}, does not stop its migration, while it stops a system page's).
     */
    static boolean checkPage(Page page, Page faultPage) {
        int extra = 1 + (page == faultPage ? 1 : 0);
        if (ZoneDevice.isZoneDevicePage(page)) {
            extra++;
        }
        if (page.mapping() != null) {
            extra++;
        }
        return page.refcount() - extra <= page.mapcount();
    }

    /**
     * {@code try_to_migrate} for a device page: every entry naming it (device-private, or
     * present for a coherent page), in any address space, becomes a migration entry of the same writability, with the
     * mapping and its reference dropped (the caller's reference keeps the page). Each change
     * is bracketed by an {@code MMU_NOTIFY_CLEAR} invalidation of that page in that mm, run as
     * {@code rmap_walk_anon} runs {@code try_to_migrate_one}: with the page locked (by the
     * caller) and that mm's anon_vma rwsem held for read ({@link Rmap}).
     */
    static void tryToMigrate(Page head, int nr) {
        PhysMem phys = PhysMem.of(head.pgmap().kernel());
        for (int k = 0; k < nr; k++) {
            tryToMigrate(head, phys.pfnToPage(head.pfn() + k));
        }
    }

    /** {@link #tryToMigrate(Page, int)} for the places of one page of the folio at {@code head}. */
    private static void tryToMigrate(Page head, Page page) {
        DevPagemap pgmap = page.pgmap();
        DevPagemap.RmapWalk places = pgmap.rmapGrab(page);
        try {
            for (DevPagemap.RmapItem it : places.items()) {
                long seen = read(it);
                if (Pte.isHuge(seen) && Pte.isDevicePrivate(seen) && Pte.pfn(seen) == page.pfn() && page == head) {
                    // The device-private PMD of the folio: one migration PMD for all of it.
                    MigrateHuge.tryToMigrateLeaf(head, it.mm(), it.pgd(), it.addr() & Pte.PMD_MASK);
                    continue;
                }
                if (!mapsPage(seen, page) || Pte.isHuge(seen)) {
                    continue;
                }
                Kernel k = it.mm().kernel();
                Rmap.folioLockHeld(k);
                RwSemaphore anonVma = Rmap.anonVmaLockRead(it.mm());
                try {
                    tryToMigrateOne(page, it);
                } finally {
                    Rmap.anonVmaUnlockRead(anonVma);
                    Rmap.folioLockReleased(k);
                }
            }
        } finally {
            pgmap.rmapRelease(places);
        }
    }

    /**
     * {@code try_to_migrate_one} for the place {@code it} of {@code page}: one CLEAR
     * invalidation of the page in that mm around replacing its entry with a migration entry.
     * The caller holds the page lock and the mm's anon_vma rwsem for read.
     */
    private static void tryToMigrateOne(Page page, DevPagemap.RmapItem it) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, it.mm(), it.addr(),
                it.addr() + Pte.PAGE_SIZE);
        range.invalidateRangeStart();
        SpinLock ptl = it.mm().pageTableLock();
        ptl.lock();
        try {
            long pte = it.pgd().get(it.addr());
            if (mapsPage(pte, page)) {
                if (Pte.isPresent(pte) && Pte.isDirty(pte)) {
                    page.setFlag(Page.PG_DIRTY);
                }
                it.pgd().set(it.addr(), Pte.mkMigration(page.pfn(), Pte.isWrite(pte)));
                PageStateChecks checks = PageStateChecks.recording(it.mm().kernel());
                if (checks != null) {
                    checks.migrationEntryInstalled(it.mm(), it.pgd(), it.addr(), page.pfn(),
                            it.mm().kernel().site());
                }
                page.decMapcount();
                page.put();
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
    }

    /**
     * True if {@code pte} maps {@code page} the way its memory is mapped: a device-private
     * entry for a device-private page, a present entry for a coherent one.
     */
    private static boolean mapsPage(long pte, Page page) {
        boolean kind = page.isDevicePrivate() ? Pte.isDevicePrivate(pte) : Pte.isPresent(pte) && !Pte.isSpecial(pte);
        return kind && Pte.pfn(pte) == page.pfn();
    }

    /** The entry of one rmap place, read under its page-table lock. */
    private static long read(DevPagemap.RmapItem it) {
        SpinLock ptl = it.mm().pageTableLock();
        ptl.lock();
        try {
            return it.pgd().get(it.addr());
        } finally {
            ptl.unlock();
        }
    }

    /**
     * {@code remove_migration_ptes(src, dst)}: every migration entry naming {@code src}
     * becomes a mapping of {@code dst} ({@code dst == src} restores), writable if the
     * migration entry was; {@code dst} gains a reference and a mapping per entry, and the
     * device rmap follows. A device {@code src} (private or coherent) is found through its rmap; an ordinary
     * one at {@code places.addr(i)}. Needs no invalidation: the entries were not present.
     */
    static void removeMigrationPtes(Page src, Page dst, Places places, int i, int nr) {
        if (nr == 1) {
            removeMigrationPtes(src, dst, places, i);
            return;
        }
        // A folio of nr pages: its migration PMD becomes one PMD of dst, else (the PMD was
        // split meanwhile) each page is restored as a base page.
        PhysMem phys = PhysMem.of(src.physMem().kernel());
        if (src.pgmap() == null) {
            if (places == null) {
                throw new IllegalStateException("an ordinary page under device-range migration: " + src);
            }
            if (MigrateHuge.restoreLeaf(src, dst, places.mm(), places.pgd(), places.addr(i), places.vma())) {
                return;
            }
        } else {
            DevPagemap.RmapWalk items = src.pgmap().rmapGrab(src);
            try {
                for (DevPagemap.RmapItem it : items.items()) {
                    Vma vma = places != null && it.pgd() == places.pgd() && places.vma().contains(it.addr())
                            ? places.vma() : null;
                    MigrateHuge.restoreLeaf(src, dst, it.mm(), it.pgd(), it.addr(), vma);
                }
            } finally {
                src.pgmap().rmapRelease(items);
            }
        }
        for (int k = 0; k < nr; k++) {
            removeMigrationPtes(phys.pfnToPage(src.pfn() + k), phys.pfnToPage(dst.pfn() + k), places, i + k);
        }
    }

    /** {@link #removeMigrationPtes(Page, Page, Places, int, int)} for one base page. */
    static void removeMigrationPtes(Page src, Page dst, Places places, int i) {
        if (src.pgmap() != null) {
            DevPagemap pgmap = src.pgmap();
            DevPagemap.RmapWalk items = pgmap.rmapGrab(src);
            try {
                for (DevPagemap.RmapItem it : items.items()) {
                    Vma vma = places != null && it.pgd() == places.pgd() && places.vma().contains(it.addr())
                            ? places.vma() : null;
                    restoreOne(src, dst, it.mm(), it.pgd(), it.addr(), vma);
                }
            } finally {
                pgmap.rmapRelease(items);
            }
            return;
        }
        if (places == null) {
            throw new IllegalStateException("an ordinary page under device-range migration: " + src);
        }
        restoreOne(src, dst, places.mm(), places.pgd(), places.addr(i), places.vma());
    }

    /** One place: if its entry is a migration entry of {@code src}, map {@code dst} there. */
    private static void restoreOne(Page src, Page dst, MmStruct mm, PageTable pgd, long addr, Vma vma) {
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            long pte = pgd.get(addr);
            if (!Pte.isMigration(pte) || Pte.pfn(pte) != src.pfn()) {
                return;
            }
            long entry = restoredEntry(dst, Pte.isWrite(pte), vma);
            dst.get();
            dst.incMapcount();
            pgd.set(addr, entry);
            if (dst != src && src.pgmap() != null) {
                src.pgmap().rmapRemove(src, pgd, addr);
            }
            if (dst != src && dst.pgmap() != null) {
                dst.pgmap().rmapAdd(dst, mm, pgd, addr);
            }
        } finally {
            ptl.unlock();
        }
    }

    /**
     * The entry {@code remove_migration_pte} puts back for a migration entry of {@code write}
     * access now naming {@code dst}: a device-private entry, or a present one (dirty if the
     * page is, {@code PROT_NONE} in an inaccessible VMA). Shared by the PTE and PMD restores.
     */
    static long restoredEntry(Page dst, boolean write, Vma vma) {
        if (dst.isDevicePrivate()) {
            return Pte.mkDevicePrivate(dst.pfn(), write);
        }
        long entry = Pte.mkPresent(dst.pfn(), write);
        if (write && dst.isDirty()) {
            entry = Pte.mkDirty(entry);
        }
        if (vma != null && !vma.isAccessible()) {
            entry = Pte.mkProtNone(Pte.wrprotect(entry));
        }
        return entry;
    }
}
