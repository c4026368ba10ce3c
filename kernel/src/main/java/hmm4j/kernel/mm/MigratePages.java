package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;

/**
 * Ordinary page migration: {@code migrate_pages} (mm/migrate.c, {@code migrate_pages_batch},
 * {@code migrate_folio_unmap}, {@code migrate_folio_move}, {@code move_to_new_folio},
 * {@code remove_migration_ptes}) with {@code try_to_migrate} / {@code try_to_migrate_one}
 * (mm/rmap.c) doing the unmap, and two of its callers: the {@code move_pages} system call
 * ({@code kernel_move_pages}, {@code add_page_for_migration}, {@code do_move_pages_to_node})
 * and memory compaction ({@code compact_zone} → {@code isolate_migratepages} →
 * {@code migrate_pages}, mm/compaction.c).
 *
 * <p>Overview. A page is first isolated: a reference is taken while its mapping is known
 * ({@link Isolated}). {@link #migratePages} then, page by page: locks it ({@link #MIGRATE_ASYNC}
 * with a trylock, skipping a locked page; {@link #MIGRATE_SYNC} with the sleeping
 * {@code lock_page}); unmaps it, replacing its entry with a migration entry of the same write
 * access; allocates the destination page, refuses the move (-EAGAIN) if anything but the
 * isolation still holds a reference to the source (a GUP pin, a device), copies the contents
 * and flags, and rewrites the migration entry to map the destination. A failed move puts the
 * source back in its entry. CPU faults on the migration entry wait for it to be rewritten
 * ({@link MigrationEntryWait}). The source is freed with the isolation's reference.
 *
 * <p>Notifiers. One {@code MMU_NOTIFY_CLEAR} invalidation, owner none, blockable, per mapping
 * of each page unmapped, over exactly the page ({@code try_to_migrate_one}); the restore needs
 * none (the migration entry was not present). {@code MMU_NOTIFY_MIGRATE} is only
 * {@code migrate_vma}'s, with its owner.
 *
 * <p>Locking, in the kernel's order: the caller's (none: {@code move_pages} drops the mmap lock
 * after isolating each page, {@code mbind} and the {@code migrate_pages} system call
 * ({@link Mempolicy}) after queueing, compaction takes none), the folio lock, the anon_vma rwsem for read
 * ({@code rmap_walk_anon}), the notifier start, the page-table lock; the callbacks run with the
 * folio lock and the anon_vma rwsem held. The caller of {@link #migratePages} holds an
 * {@code mm_users} pin of each page's mm.
 *
 * <p>Differences from the kernel: nodes are only a number on each page ({@link Page#nid});
 * {@link #movePages} migrates every page it is given to a new page on the node asked for, even
 * one already there.
 * An isolated page knows its one mapping instead of reaching it through the reverse map, so only
 * anonymous pages mapped once are migrated (shared, KSM, page-cache, huge and device pages are
 * refused at isolation with {@code -EBUSY} or skipped). No retries of pages that fail with
 * -EAGAIN ({@code NR_MAX_MIGRATE_PAGES_RETRY}), no batching, no LRU.
 * {@link #compactRange} stands in for the free and migration scanners with one mm's range,
 * isolated under that mm's mmap lock for read (the kernel's PFN scanner takes none), then
 * migrated with no mmap lock held.
 */
public final class MigratePages {
    /** {@code MIGRATE_ASYNC}: never sleep on the folio lock. */
    public static final int MIGRATE_ASYNC = 0;
    /** {@code MIGRATE_SYNC}: {@code folio_lock} may sleep. */
    public static final int MIGRATE_SYNC = 2;

    /** An isolated page: where it is mapped (its one mapping), and the isolation's reference. */
    public record Isolated(MmStruct mm, PageTable pgd, Vma vma, long addr, Page page) {
    }

    private MigratePages() {
    }

    /**
     * Isolates the page mapped at {@code addr} of {@code mm} ({@code add_page_for_migration}'s
     * {@code folio_isolate_lru}): a reference on it. The mmap lock is held (asserted).
     *
     * @return the isolated page, or null with {@code err[0]} set: {@code -EFAULT} (no VMA, or
     *         not a migratable one), {@code -ENOENT} (no page, the zero page), {@code -EBUSY}
     *         (a page the model does not migrate: shared, KSM, huge, device, page cache)
     */
    public static Isolated isolate(MmStruct mm, long addr, int[] err) {
        mm.mmapAssertLocked();
        long page = addr & Pte.PAGE_MASK;
        Vma vma = mm.vmas("isolate").vmaLookup(page);
        if (vma == null || vma.hasAny(VmFlags.VM_IO | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB | VmFlags.VM_MIXEDMAP)) {
            err[0] = -Errno.EFAULT;
            return null;
        }
        PageTable pt = mm.pgd("isolate");
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            long pte = pt.get(page);
            if (!Pte.isPresent(pte) || Pte.isZero(pte) || Pte.isSpecial(pte)) {
                err[0] = -Errno.ENOENT;
                return null;
            }
            Page p = PhysMem.of(mm.kernel()).pfnToPage(Pte.pfn(pte));
            if (Pte.isHuge(pte) || p == null || !p.isAnon() || p.pgmap() != null || p.testFlag(Ksm.PG_KSM)
                    || p.mapcount() != 1) {
                err[0] = -Errno.EBUSY;
                return null;
            }
            p.get();
            return new Isolated(mm, pt, vma, page, p);
        } finally {
            ptl.unlock();
        }
    }

    /**
     * {@code move_pages(pid, count, pages, nodes, status, MPOL_MF_MOVE)}: isolates each page
     * under the mmap lock for read, dropping the lock after each, then migrates them all with
     * no mmap lock held ({@link #MIGRATE_SYNC}). The caller holds an {@code mm_users} pin.
     * May sleep.
     *
     * @param status per address: {@code node} once migrated, else a negative errno
     * @return 0
     */
    public static int movePages(MmStruct mm, long[] addrs, int node, int[] status) {
        List<Isolated> list = new ArrayList<>();
        List<Integer> index = new ArrayList<>();
        for (int i = 0; i < addrs.length; i++) {
            int[] err = new int[1];
            mm.mmapReadLock();
            Isolated iso;
            try {
                iso = isolate(mm, addrs[i], err);
            } finally {
                mm.mmapReadUnlock();
            }
            if (iso == null) {
                status[i] = err[0];
            } else {
                list.add(iso);
                index.add(i);
            }
        }
        int[] results = new int[list.size()];
        migratePages(list, MIGRATE_SYNC, results, node);
        for (int j = 0; j < results.length; j++) {
            status[index.get(j)] = results[j] == 0 ? node : results[j];
        }
        return 0;
    }

    /**
     * Compaction over [{@code start}, {@code end}) of {@code mm} (see the class comment):
     * {@link #MIGRATE_ASYNC}, no mmap lock held while migrating. The caller holds an
     * {@code mm_users} pin. May sleep.
     *
     * @return the number of pages migrated
     */
    public static int compactRange(MmStruct mm, long start, long end) {
        List<Isolated> list = new ArrayList<>();
        mm.mmapReadLock();
        try {
            for (Vma vma : mm.vmas("compact").intersecting(start, end)) {
                for (long a = Math.max(start, vma.vmStart()); a < Math.min(end, vma.vmEnd()); a += Pte.PAGE_SIZE) {
                    Isolated iso = isolate(mm, a, new int[1]);
                    if (iso != null) {
                        list.add(iso);
                    }
                }
            }
        } finally {
            mm.mmapReadUnlock();
        }
        int[] results = new int[list.size()];
        return list.size() - migratePages(list, MIGRATE_ASYNC, results);
    }

    /**
     * {@code migrate_pages}: migrates each isolated page (see the class comment) and drops its
     * isolation reference. May sleep.
     *
     * @param results per page: 0 if migrated (or freed meanwhile), else a negative errno
     * @return the number of pages not migrated
     */
    public static int migratePages(List<Isolated> pages, int mode, int[] results) {
        return migratePages(pages, mode, results, SAME_NODE);
    }

    /** The destination of {@link #migratePages(List, int, int[])}: the source's own node (compaction). */
    static final int SAME_NODE = -1;

    /**
     * {@code migrate_pages} with every destination allocated on {@code node}
     * ({@code alloc_migration_target} with that {@code nid}), or on each source's node for
     * {@link #SAME_NODE}. May sleep.
     */
    static int migratePages(List<Isolated> pages, int mode, int[] results, int node) {
        int failed = 0;
        for (int i = 0; i < pages.size(); i++) {
            results[i] = migrateOne(pages.get(i), mode, node);
            if (results[i] != 0) {
                failed++;
            }
        }
        return failed;
    }

    /** {@code migrate_folio_unmap} + {@code migrate_folio_move} of one isolated page. */
    private static int migrateOne(Isolated iso, int mode, int node) {
        Page src = iso.page();
        if (src.refcount() == 1) {
            // Freed under us: only the isolation's reference is left.
            src.put();
            return 0;
        }
        if (mode == MIGRATE_ASYNC) {
            if (!src.trylock()) {
                src.put();
                return -Errno.EAGAIN;
            }
        } else {
            src.lock();
        }
        Kernel k = iso.mm().kernel();
        int ret;
        Rmap.folioLockHeld(k);
        try {
            ret = unmapAndMove(iso, src, node);
        } finally {
            Rmap.folioLockReleased(k);
            src.unlock();
        }
        src.put();
        return ret;
    }

    /** With the source locked: the unmap, the copy, the restore. */
    private static int unmapAndMove(Isolated iso, Page src, int node) {
        Kernel k = iso.mm().kernel();
        if (src.mapcount() > 0) {
            RwSemaphore anonVma = Rmap.anonVmaLockRead(iso.mm());
            try {
                tryToMigrateOne(iso, src);
            } finally {
                Rmap.anonVmaUnlockRead(anonVma);
            }
        }
        if (src.mapcount() > 0) {
            return -Errno.EAGAIN;
        }
        Page dst = null;
        int ret = 0;
        if (src.refcount() != 1) {
            ret = -Errno.EAGAIN;
        } else {
            dst = PhysMem.of(k).allocPage();
            if (dst == null) {
                ret = -Errno.ENOMEM;
            } else {
                dst.setNid(node == SAME_NODE ? src.nid() : node);
                dst.trylock();
                dst.copyFrom(src);
                int carried = Page.PG_ANON | Page.PG_SWAPBACKED | Page.PG_DIRTY | LazyFree.PG_LAZYFREE;
                for (int bit = 1; bit != 0; bit <<= 1) {
                    if ((carried & bit) != 0 && src.testFlag(bit)) {
                        dst.setFlag(bit);
                    }
                }
            }
        }
        RwSemaphore anonVma = Rmap.anonVmaLockRead(iso.mm());
        try {
            removeMigrationPte(iso, src, dst == null ? src : dst);
        } finally {
            Rmap.anonVmaUnlockRead(anonVma);
        }
        MigrationEntryWait.wakeUpMigrationWaiters(k);
        if (dst != null) {
            dst.unlock();
            dst.put();
        }
        return ret;
    }

    /**
     * {@code try_to_migrate_one}: one CLEAR invalidation of the page around replacing its entry
     * with a migration entry. Folio lock and anon_vma rwsem held.
     */
    private static void tryToMigrateOne(Isolated iso, Page src) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, iso.mm(), iso.addr(),
                iso.addr() + Pte.PAGE_SIZE);
        range.invalidateRangeStart();
        SpinLock ptl = iso.mm().pageTableLock();
        ptl.lock();
        try {
            long pte = iso.pgd().get(iso.addr());
            if (Pte.isPresent(pte) && !Pte.isHuge(pte) && Pte.pfn(pte) == src.pfn()) {
                if (Pte.isDirty(pte)) {
                    src.setFlag(Page.PG_DIRTY);
                }
                iso.pgd().set(iso.addr(), Pte.mkMigration(src.pfn(), Pte.isWrite(pte)));
                PageStateChecks checks = PageStateChecks.recording(iso.mm().kernel());
                if (checks != null) {
                    checks.migrationEntryInstalled(iso.mm(), iso.pgd(), iso.addr(), src.pfn(), iso.mm().kernel().site());
                }
                src.decMapcount();
                src.put();
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
    }

    /** {@code remove_migration_pte}: the migration entry of {@code src} now maps {@code dst}. */
    private static void removeMigrationPte(Isolated iso, Page src, Page dst) {
        SpinLock ptl = iso.mm().pageTableLock();
        ptl.lock();
        try {
            long pte = iso.pgd().get(iso.addr());
            if (!Pte.isMigration(pte) || Pte.pfn(pte) != src.pfn()) {
                return;
            }
            boolean write = Pte.isWrite(pte);
            long entry = Pte.mkPresent(dst.pfn(), write);
            if (write && dst.isDirty()) {
                entry = Pte.mkDirty(entry);
            }
            if (!iso.vma().isAccessible()) {
                entry = Pte.mkProtNone(Pte.wrprotect(entry));
            }
            dst.get();
            dst.incMapcount();
            iso.pgd().set(iso.addr(), entry);
        } finally {
            ptl.unlock();
        }
    }
}
