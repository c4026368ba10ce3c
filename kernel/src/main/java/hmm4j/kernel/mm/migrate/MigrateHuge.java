package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_SHIFT;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_SYSTEM;

import hmm4j.kernel.mm.FolioPins;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageStateChecks;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.sync.SpinLock;

/**
 * Migration of whole PMD-mapped folios (device-private THP, Linux 6.19, mm/migrate_device.c):
 * {@code migrate_vma_collect_huge_pmd} with {@code MIGRATE_VMA_SELECT_COMPOUND},
 * {@code set_pmd_migration_entry} / {@code remove_migration_pmd},
 * {@code migrate_vma_insert_huge_pmd_page} and {@code migrate_vma_split_unmapped_folio}.
 *
 * <p>Overview. A PMD leaf inside a migration whose flags have
 * {@link MigrateVma#MIGRATE_VMA_SELECT_COMPOUND}, and whose PMD chunk is the whole aligned
 * 2 MiB, is collected as one {@code src} entry with {@link MigratePfn#MIGRATE_PFN_COMPOUND}
 * (the 511 entries after it are 0): a system THP (selecting system memory) or the device-private
 * PMD entry of a device THP of the migration's owner becomes one PMD migration entry; the huge
 * zero page, and no page table at all, become a compound hole. The driver answers with a
 * compound destination (a large folio) or with 512 base pages; in the second case
 * {@code migrate_vma_pages} splits the source first ({@link #splitUnmappedFolio}: the migration
 * PMD into 512 migration PTEs, a device folio through the driver's {@code folio_split}) or fills
 * the hole page by page. Finalize turns the migration PMD into a PMD of the destination
 * ({@link #restoreLeaf}). Without the flag, or for a chunk that is not the whole 2 MiB, the leaf
 * is split first ({@code split_folio}) and collected per page.
 *
 * <p>Locking: as {@link MigrateCollect}; the folio lock is the head page's lock (the model
 * locks pages one by one and has no folio object for system THPs).
 *
 * <p>Differences from the kernel: a folio's references and map counts are per page (512 each);
 * a pinned page of the THP makes the collection split it (the kernel's
 * {@code folio_try_share_anon_rmap_pmd} refusal leads to the same fallback).
 */
final class MigrateHuge {
    private MigrateHuge() {
    }

    /** What the collection of one PMD chunk did. */
    enum Collected {
        /** No leaf here (or it was split): collect the PTEs. */
        PTES,
        /** The chunk's entries are written. */
        DONE
    }

    /**
     * {@code migrate_vma_collect_huge_pmd} for the PMD chunk [addr, next) starting at entry
     * {@code i}. Writes the chunk's {@code src}/{@code dst} entries and returns {@link
     * Collected#DONE}, or returns {@link Collected#PTES} when the chunk holds no leaf or the
     * leaf was split (the caller collects the PTEs then). {@code counted[0]} gains the entries
     * collected. Called without the page-table lock.
     */
    static Collected collectHugePmd(MigrateVma args, PageTable pt, long addr, long next, int i, int[] counted) {
        MmStruct mm = args.mm();
        PhysMem phys = PhysMem.of(mm.kernel());
        int n = (int) ((next - addr) >>> Pte.PAGE_SHIFT);
        boolean whole = (args.flags() & MIGRATE_VMA_SELECT_COMPOUND) != 0 && (addr & ~Pte.PMD_MASK) == 0
                && next - addr == Pte.PMD_SIZE;
        boolean[] split = {false};
        Page[] splitDevice = {null};
        Collected ret = collectLocked(args, pt, phys, addr, i, n, whole, counted, split, splitDevice);
        if (split[0]) {
            // The fallback: split_folio, with the page-table lock dropped (the PMD split sends
            // its CLEAR; a device folio is split through its driver's callback).
            HugeMemory.splitHugePmd(mm, addr);
            Page folio = splitDevice[0];
            if (folio != null && folio.pgmap().folioOrder(folio) > 0) {
                folio.pgmap().folioSplit(folio);
            }
        }
        return ret;
    }

    /** The locked part of {@link #collectHugePmd}; {@code split[0]} asks the caller for the fallback split. */
    private static Collected collectLocked(MigrateVma args, PageTable pt, PhysMem phys, long addr, int i, int n,
                                           boolean whole, int[] counted, boolean[] split, Page[] splitDevice) {
        MmStruct mm = args.mm();
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            if (whole && pt.isPmdNone(addr) && args.vma().isAnonymous()) {
                // migrate_vma_collect_hole of a whole PMD without page table: one compound hole.
                skip(args, i, n);
                args.src()[i] = MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND;
                counted[0]++;
                mm.kernel().mark(MigrateVma.COLLECT_COMPOUND);
                return Collected.DONE;
            }
            if (!pt.isPmdLeaf(addr)) {
                return Collected.PTES;
            }
            long pmd = pt.pmdLeaf(addr);
            long head = Pte.pfn(pmd);
            if (Pte.isPresent(pmd)) {
                if ((args.flags() & MIGRATE_VMA_SELECT_SYSTEM) == 0 || Pte.isProtNone(pmd)) {
                    skip(args, i, n);
                    return Collected.DONE;
                }
                if (Pte.isSpecial(pmd)) {
                    if (!whole) {
                        split[0] = true;
                        return Collected.PTES;
                    }
                    // The huge zero page: a compound hole; the zero PMD stays until it is filled.
                    skip(args, i, n);
                    args.src()[i] = MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND;
                    counted[0]++;
                    mm.kernel().mark(MigrateVma.COLLECT_COMPOUND);
                    return Collected.DONE;
                }
            } else if (!Pte.isDevicePrivate(pmd) || (args.flags() & MIGRATE_VMA_SELECT_DEVICE_PRIVATE) == 0
                    || args.pgmapOwner() == null || phys.pfnToPage(head).devicePrivateOwner() != args.pgmapOwner()) {
                skip(args, i, n);
                return Collected.DONE;
            }
            Page folio = phys.pfnToPage(head);
            boolean device = folio.isDevicePrivate();
            if (folio != args.faultPage() && !folio.trylock()) {
                mm.kernel().mark(MigrateVma.COLLECT_PAGE_BUSY);
                skip(args, i, n);
                return Collected.DONE;
            }
            if (!whole || !device && maybePinned(mm, phys, head)) {
                if (folio != args.faultPage()) {
                    folio.unlock();
                }
                split[0] = true;
                splitDevice[0] = device ? folio : null;
                return Collected.PTES;
            }
            // set_pmd_migration_entry: the PMD becomes a migration PMD of the same writability;
            // each page's mapping reference becomes the migration's.
            boolean write = Pte.isWrite(pmd);
            for (int k = 0; k < HugeMemory.HPAGE_PMD_NR; k++) {
                Page p = phys.pfnToPage(head + k);
                if (Pte.isPresent(pmd) && Pte.isDirty(pmd)) {
                    p.setFlag(Page.PG_DIRTY);
                }
                p.decMapcount();
            }
            pt.replacePmdLeaf(addr, Pte.mkMigration(head, write));
            PageStateChecks checks = PageStateChecks.recording(mm.kernel());
            if (checks != null) {
                checks.migrationEntryInstalled(mm, pt, addr, head, mm.kernel().site());
            }
            skip(args, i, n);
            args.src()[i] = MigratePfn.migratePfn(head) | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND
                    | (write ? MIGRATE_PFN_WRITE : 0);
            counted[0]++;
            mm.kernel().mark(MigrateVma.COLLECT_COMPOUND);
            return Collected.DONE;
        } finally {
            ptl.unlock();
        }
    }

    /** {@code migrate_vma_collect_skip}: entries [i, i + n) are 0. */
    private static void skip(MigrateVma args, int i, int n) {
        for (int k = 0; k < n; k++) {
            args.src()[i + k] = 0;
            args.dst()[i + k] = 0;
        }
    }

    /** Some page of the THP at {@code head} may be pinned for DMA ({@code folio_maybe_dma_pinned}). */
    private static boolean maybePinned(MmStruct mm, PhysMem phys, long head) {
        FolioPins pins = FolioPins.of(mm.kernel());
        for (int k = 0; k < HugeMemory.HPAGE_PMD_NR; k++) {
            if (pins.folioMaybeDmaPinned(phys.pfnToPage(head + k))) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code migrate_vma_split_unmapped_folio}: the compound source of entry {@code i} got a
     * base-page destination. The migration PMD at its address is split into 512 migration
     * PTEs ({@code split_huge_pmd_address} with freeze: a CLEAR of the 2 MiB), a device folio
     * is split through its driver ({@code folio_split_unmapped}), the new folios are locked
     * as the old one was, and entries {@code i + 1 .. i + 511} name their pages with the flags
     * of entry {@code i}, which loses {@code MIGRATE_PFN_COMPOUND}.
     */
    static void splitUnmappedFolio(MigrateVma args, int i, Page folio) {
        long haddr = args.start() + ((long) i << Pte.PAGE_SHIFT);
        HugeMemory.splitHugePmd(args.mm(), haddr);
        if (folio.pgmap() != null && folio.pgmap().folioOrder(folio) > 0) {
            folio.pgmap().folioSplit(folio);
        }
        PhysMem phys = PhysMem.of(args.mm().kernel());
        long[] src = args.src();
        src[i] &= ~MIGRATE_PFN_COMPOUND;
        long flags = src[i] & ((1L << MIGRATE_PFN_SHIFT) - 1);
        for (int k = 1; k < HugeMemory.HPAGE_PMD_NR; k++) {
            Page p = phys.pfnToPage(folio.pfn() + k);
            if (!p.trylock()) {
                throw new IllegalStateException("a page of an unmapped folio under migration is locked: " + p);
            }
            src[i + k] = MigratePfn.migratePfn(folio.pfn() + k) | flags;
        }
        args.mm().kernel().mark(MigrateVma.PAGES_SPLIT_UNMAPPED);
    }

    /**
     * {@code migrate_vma_insert_huge_pmd_page}: maps the large destination folio at
     * {@code head} with one PMD at {@code haddr}, if the PMD is still none or the huge zero
     * page and the VMA takes a PMD there: a device-private PMD entry for device memory, a
     * present one otherwise, writable (and dirty) if the VMA is. Otherwise the 512 entries from
     * {@code i} lose {@code MIGRATE}. Each page gains a mapping and a reference.
     */
    static void insertHugePmdPage(MigrateVma args, long haddr, Page head, int i) {
        Vma vma = args.vma();
        MmStruct mm = args.mm();
        long[] src = args.src();
        boolean suitable = vma.isAnonymous() && haddr >= vma.vmStart() && haddr + Pte.PMD_SIZE <= vma.vmEnd()
                && (haddr & ~Pte.PMD_MASK) == 0;
        boolean done = false;
        if (suitable) {
            boolean write = vma.hasAny(VmFlags.VM_WRITE);
            long entry = head.isDevicePrivate() ? Pte.mkDevicePrivate(head.pfn(), write)
                    : write ? Pte.mkDirty(Pte.mkPresent(head.pfn(), true)) : Pte.mkPresent(head.pfn(), false);
            PageTable pt = mm.pgd("migrate_vma_pages");
            PhysMem phys = PhysMem.of(mm.kernel());
            SpinLock ptl = mm.pageTableLock();
            ptl.lock();
            try {
                boolean zero = pt.isPmdLeaf(haddr) && Pte.isSpecial(pt.pmdLeaf(haddr)) && Pte.isPresent(pt.pmdLeaf(haddr));
                if (zero || pt.isPmdNone(haddr)) {
                    for (int k = 0; k < HugeMemory.HPAGE_PMD_NR; k++) {
                        Page p = phys.pfnToPage(head.pfn() + k);
                        p.setFlag(Page.PG_ANON | Page.PG_SWAPBACKED);
                        p.get();
                        p.incMapcount();
                    }
                    if (zero) {
                        pt.replacePmdLeaf(haddr, entry);
                    } else {
                        pt.setPmdLeaf(haddr, entry);
                    }
                    if (head.pgmap() != null) {
                        for (int k = 0; k < HugeMemory.HPAGE_PMD_NR; k++) {
                            Page p = phys.pfnToPage(head.pfn() + k);
                            head.pgmap().rmapAdd(p, mm, pt, haddr + ((long) k << Pte.PAGE_SHIFT));
                        }
                    }
                    done = true;
                    mm.kernel().mark(MigrateVma.PAGES_INSERT_HUGE_PMD);
                }
            } finally {
                ptl.unlock();
            }
        }
        if (!done) {
            for (int k = 0; k < HugeMemory.HPAGE_PMD_NR && i + k < args.npages(); k++) {
                src[i + k] &= ~MIGRATE_PFN_MIGRATE;
            }
        }
    }

    /**
     * {@code remove_migration_pmd}: if the PMD of {@code haddr} in {@code pgd} is a migration
     * PMD of the folio at {@code src}, it becomes a PMD of the folio at {@code dst} (the same
     * folio to restore): device-private for device-private memory, else present (dirty if
     * writable and the folio is dirty; PROT_NONE in an inaccessible VMA), writable if the
     * migration PMD was. Every page of {@code dst} gains a mapping and a reference; the device
     * rmap follows. Returns false (nothing done) if the PMD is not that migration PMD. Takes
     * the page-table lock.
     */
    static boolean restoreLeaf(Page src, Page dst, MmStruct mm, PageTable pgd, long haddr, Vma vma) {
        SpinLock ptl = mm.pageTableLock();
        PhysMem phys = PhysMem.of(mm.kernel());
        ptl.lock();
        try {
            if (!pgd.isPmdLeaf(haddr)) {
                return false;
            }
            long pmd = pgd.pmdLeaf(haddr);
            if (!Pte.isMigration(pmd) || Pte.pfn(pmd) != src.pfn()) {
                return false;
            }
            long entry = MigrationEntries.restoredEntry(dst, Pte.isWrite(pmd), vma);
            pgd.replacePmdLeaf(haddr, entry);
            for (int k = 0; k < HugeMemory.HPAGE_PMD_NR; k++) {
                Page s = phys.pfnToPage(src.pfn() + k);
                Page d = phys.pfnToPage(dst.pfn() + k);
                long a = haddr + ((long) k << Pte.PAGE_SHIFT);
                d.get();
                d.incMapcount();
                if (d != s && s.pgmap() != null) {
                    s.pgmap().rmapRemove(s, pgd, a);
                }
                if (d != s && d.pgmap() != null) {
                    d.pgmap().rmapAdd(d, mm, pgd, a);
                }
            }
            return true;
        } finally {
            ptl.unlock();
        }
    }

    /**
     * {@code try_to_migrate_one} on the device-private PMD at {@code haddr} of {@code pgd}
     * naming the folio at {@code head} ({@code set_pmd_migration_entry}): one CLEAR of the
     * 2 MiB around replacing it by a migration PMD; every page loses that mapping and its
     * reference (the caller holds the folio). Nothing if the PMD changed meanwhile.
     */
    static void tryToMigrateLeaf(Page head, MmStruct mm, PageTable pgd, long haddr) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, haddr,
                haddr + Pte.PMD_SIZE);
        range.invalidateRangeStart();
        SpinLock ptl = mm.pageTableLock();
        PhysMem phys = PhysMem.of(mm.kernel());
        ptl.lock();
        try {
            if (pgd.isPmdLeaf(haddr) && Pte.isDevicePrivate(pgd.pmdLeaf(haddr))
                    && Pte.pfn(pgd.pmdLeaf(haddr)) == head.pfn()) {
                boolean write = Pte.isWrite(pgd.pmdLeaf(haddr));
                pgd.replacePmdLeaf(haddr, Pte.mkMigration(head.pfn(), write));
                PageStateChecks checks = PageStateChecks.recording(mm.kernel());
                if (checks != null) {
                    checks.migrationEntryInstalled(mm, pgd, haddr, head.pfn(), mm.kernel().site());
                }
                for (int k = 0; k < HugeMemory.HPAGE_PMD_NR; k++) {
                    Page p = phys.pfnToPage(head.pfn() + k);
                    p.decMapcount();
                    p.put();
                }
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
    }
}
