package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;
import hmm4j.sim.sync.WaitQueueHead;

/**
 * Waiting for a page under migration: {@code migration_entry_wait} (mm/migrate.c). A task
 * that finds a {@link Pte#isMigration migration entry} where it needs a page sleeps until
 * the migration has put a real entry back, then retries its access.
 *
 * <p>Overview. One wait queue per machine (a {@link Kernel} component), standing for the
 * kernel's hashed folio wait queues. {@link #migrationEntryWait} re-checks the entry under
 * the page-table lock and, if it is still a migration entry, sleeps until the entry at that
 * address is anything else; the code that finishes (or aborts) a migration rewrites the
 * entries under the page-table lock and then calls {@link #wakeUpMigrationWaiters}. A
 * migration that never wakes its waiters is reported as a deadlock naming this queue.
 *
 * <p>Locking. The caller holds the mmap lock (read is enough) or the per-VMA lock of the VMA of
 * the address (asserted), and an
 * {@code mm_users} pin (the pin rule), and keeps them while it sleeps, as the kernel's
 * callers do; so the page tables cannot be freed under the sleeper. The page-table lock is
 * taken for the first check only. The wake-up condition reads the entry without the lock:
 * in the controlled runtime it is evaluated atomically between scheduling points; in the
 * native runtime it is a racy read of one {@code long}, like the kernel's lockless
 * {@code ptep_get}, and a wake-up after the rewrite re-evaluates it.
 *
 * <p>Differences from the kernel: the kernel sleeps on the migrating folio's lock bit
 * ({@code migration_entry_wait_on_locked}) and may return before the entry is rewritten
 * (the caller then faults again); the model waits for the entry itself. No per-VMA locks,
 * no hugetlb or PMD migration entries.
 */
public final class MigrationEntryWait {
    private final WaitQueueHead queue;

    private MigrationEntryWait(Kernel kernel) {
        this.queue = new WaitQueueHead(kernel, "migration_entry_wait");
    }

    private static MigrationEntryWait of(Kernel kernel) {
        MigrationEntryWait existing = kernel.componentOrNull(MigrationEntryWait.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(MigrationEntryWait.class, () -> new MigrationEntryWait(kernel));
    }

    /**
     * {@code migration_entry_wait}: if the entry mapping {@code addr} in {@code mm} is a
     * migration entry, sleeps until it is not. Returns at once otherwise. The caller holds
     * the mmap lock (asserted) and a pin; may sleep. The caller retries its access after
     * the return: the new entry may be anything (the migrated page, the old one after an
     * aborted migration, or none after an unmap).
     */
    public static void migrationEntryWait(MmStruct mm, long addr) {
        if (!mm.mmapLock().heldByCurrent() && !VmaLock.heldByCurrent(mm, mm.vmas("migration_entry_wait").vmaLookup(addr))) {
            mm.mmapAssertLocked();
        }
        long page = addr & Pte.PAGE_MASK;
        PageTable pt = mm.pgd("migration_entry_wait");
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        long entry = pt.get(page);
        ptl.unlock();
        if (!Pte.isMigration(entry)) {
            return;
        }
        of(mm.kernel()).queue.waitEvent(() -> !Pte.isMigration(pt.get(page)),
                "the migration entry at 0x" + Long.toHexString(page) + " in " + mm.name() + " to be replaced"
                        + underMigration(mm.kernel(), Pte.pfn(entry)));
    }

    /**
     * For the wait's reason: the page the entry stands for and who holds its lock (the
     * migration that made the entry locked it and unlocks it when it replaces the entry).
     */
    private static String underMigration(Kernel kernel, long pfn) {
        Page p = PhysMem.of(kernel).pfnToPage(pfn);
        if (p == null) {
            return "";
        }
        String holder = p.isLocked() ? Page.lockHolder(p.lockSiteOrNull()) : " (not locked)";
        return " (" + p + holder + ")";
    }

    /**
     * Wakes every task sleeping in {@link #migrationEntryWait} so that each re-checks its
     * entry. Called by the migration code after it replaced migration entries (under the
     * page-table lock, which it has dropped by now). Does not sleep.
     */
    public static void wakeUpMigrationWaiters(Kernel kernel) {
        of(kernel).queue.wakeUpAll();
    }
}
