package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_DEVICE_COHERENT;
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
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.sync.SpinLock;

/**
 * The collection walk of {@code migrate_vma_setup}: {@code migrate_vma_collect},
 * {@code migrate_vma_collect_hole} and {@code migrate_vma_collect_pmd} (mm/migrate_device.c).
 *
 * <p>Overview. One {@code MMU_NOTIFY_MIGRATE} invalidation with {@code owner = pgmap_owner}
 * brackets a walk of [start, end) PMD-sized chunk by chunk, under the page-table lock. Per
 * page, {@code src[i]} becomes:
 * <ul>
 *   <li>{@code MIGRATE} without a pfn ("fill this hole") for a none entry or a chunk without
 *       page table in an anonymous VMA, and for a zero-page entry when selecting system
 *       memory;</li>
 *   <li>{@code pfn | VALID | MIGRATE [| WRITE]} for an ordinary page (selecting system
 *       memory) or a device-private page whose pgmap owner is {@code pgmap_owner} (selecting
 *       device-private memory), if the page is anonymous or in the page cache and its lock
 *       could be taken (or it is the fault page, already locked). The entry is replaced by a
 *       migration entry of the same writability right away, the mapping is dropped and its
 *       reference becomes the migration's;</li>
 *   <li>0 for everything else: swap, migration and device-exclusive entries, special and
 *       PROT_NONE entries, another owner's device pages, pages whose lock is taken, and an
 *       exclusive anonymous page that may be pinned for DMA ({@code folio_maybe_dma_pinned}:
 *       the kernel's {@code folio_try_share_anon_rmap_pte} refuses it and the entry is put
 *       back; the model takes a page mapped once as exclusive). A pinned page mapped more than
 *       once is collected and then restored by the reference check of the unmap step.</li>
 * </ul>
 * Holes are collected whatever the select flags, as the kernel does; the driver decides
 * whether to fill them.
 *
 * <p>Locking: the caller holds the mmap lock; the invalidation runs with no spinlock held;
 * page locks are only tried, under the page-table lock.
 *
 * <p>Differences from the kernel: PROT_NONE (NUMA hinting) entries are not collected, because
 * the model's migration entries cannot carry the protection back; a PMD leaf is always split
 * first ({@link HugeMemory#splitHugePmd}, a CLEAR of its 2 MiB nested in the MIGRATE
 * invalidation) unless {@code MIGRATE_VMA_SELECT_COMPOUND} asks for it whole
 * ({@link MigrateHuge}); the huge zero page is split too where the kernel leaves it mapped
 * until {@code migrate_vma_insert_page}.
 */
final class MigrateCollect {
    private MigrateCollect() {
    }

    /** {@code migrate_vma_collect}: fills {@code src}/{@code dst} for [start, end); returns the pages collected. */
    static int collect(MigrateVma args, PageTable pt, int nrPages) {
        MmStruct mm = args.mm();
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_MIGRATE, 0, mm, args.start(),
                args.end(), args.pgmapOwner());
        range.invalidateRangeStart();
        PhysMem phys = PhysMem.of(mm.kernel());
        FolioPins pins = FolioPins.of(mm.kernel());
        SpinLock ptl = mm.pageTableLock();
        int collected = 0;
        long addr = args.start();
        int i = 0;
        while (i < nrPages) {
            long next = Math.min((addr + Pte.PMD_SIZE) & Pte.PMD_MASK, args.end());
            int n = (int) ((next - addr) >>> Pte.PAGE_SHIFT);
            // A PMD leaf: collected whole (MIGRATE_VMA_SELECT_COMPOUND) or split first.
            int[] counted = {0};
            if ((pt.pmdLeafCount() != 0 || (args.flags() & MigrateVma.MIGRATE_VMA_SELECT_COMPOUND) != 0)
                    && MigrateHuge.collectHugePmd(args, pt, addr, next, i, counted) == MigrateHuge.Collected.DONE) {
                collected += counted[0];
                i += n;
                addr = next;
                continue;
            }
            ptl.lock();
            try {
                for (int k = 0; k < n; k++) {
                    long a = addr + ((long) k << Pte.PAGE_SHIFT);
                    long mpfn = collectPte(args, phys, pins, pt, a);
                    if (mpfn != 0) {
                        collected++;
                    }
                    args.src()[i + k] = mpfn;
                    args.dst()[i + k] = 0;
                }
            } finally {
                ptl.unlock();
            }
            i += n;
            addr = next;
        }
        range.invalidateRangeEnd();
        return collected;
    }

    /** One entry, under the page-table lock: the {@code src} value for {@code addr}. */
    private static long collectPte(MigrateVma args, PhysMem phys, FolioPins pins, PageTable pt, long addr) {
        long pte = pt.get(addr);
        if (Pte.isNone(pte)) {
            return args.vma().isAnonymous() ? MIGRATE_PFN_MIGRATE : 0;
        }
        Page page;
        long mpfn;
        if (!Pte.isPresent(pte)) {
            if (!Pte.isDevicePrivate(pte)) {
                return 0;
            }
            page = phys.pfnToPage(Pte.pfn(pte));
            if ((args.flags() & MIGRATE_VMA_SELECT_DEVICE_PRIVATE) == 0 || args.pgmapOwner() == null
                    || page.devicePrivateOwner() != args.pgmapOwner()) {
                return 0;
            }
            Page head = page.pgmap().folioHead(page);
            if (head != page || page.pgmap().folioOrder(page) > 0) {
                // migrate_vma_split_folio: a PTE-mapped page of a large device folio (its PMD was
                // split, e.g. by a partial munmap) is collected once the folio is split.
                page.pgmap().folioSplit(head);
                args.mm().kernel().mark(MigrateVma.COLLECT_SPLIT_PTE_MAPPED);
            }
        } else {
            if (Pte.isZero(pte)) {
                return (args.flags() & MIGRATE_VMA_SELECT_SYSTEM) != 0 ? MIGRATE_PFN_MIGRATE : 0;
            }
            if (Pte.isSpecial(pte) || Pte.isProtNone(pte)) {
                return 0;
            }
            page = phys.pfnToPage(Pte.pfn(pte));
            if (ZoneDevice.isDeviceCoherentPage(page)) {
                // A coherent page is collected only for its own device, when asked for.
                if ((args.flags() & MIGRATE_VMA_SELECT_DEVICE_COHERENT) == 0 || args.pgmapOwner() == null
                        || page.pgmap().owner() != args.pgmapOwner()) {
                    return 0;
                }
            } else if ((args.flags() & MIGRATE_VMA_SELECT_SYSTEM) == 0) {
                return 0;
            }
        }
        if (!page.isAnon() && page.mapping() == null) {
            return 0;
        }
        if (page.isAnon() && !page.isDevicePrivate() && page.mapcount() == 1 && pins.folioMaybeDmaPinned(page)) {
            args.mm().kernel().mark(MigrateVma.COLLECT_PINNED);
            return 0;
        }
        mpfn = MigratePfn.migratePfn(page.pfn()) | MIGRATE_PFN_MIGRATE | (Pte.isWrite(pte) ? MIGRATE_PFN_WRITE : 0);
        if (page != args.faultPage() && !page.trylock()) {
            args.mm().kernel().mark(MigrateVma.COLLECT_PAGE_BUSY);
            return 0;
        }
        long old = pt.getAndClear(addr);
        if (Pte.isPresent(old) && Pte.isDirty(old)) {
            page.setFlag(Page.PG_DIRTY);
        }
        pt.set(addr, Pte.mkMigration(page.pfn(), Pte.isWrite(old)));
        PageStateChecks checks = PageStateChecks.recording(args.mm().kernel());
        if (checks != null) {
            checks.migrationEntryInstalled(args.mm(), pt, addr, page.pfn(), args.mm().kernel().site());
        }
        page.decMapcount();
        return mpfn;
    }
}
