package hmm4j.kernel.mm;

import hmm4j.kernel.KernelRules;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import hmm4j.sim.rule.Rule;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The end-of-run checks of page and migration state: no {@code migrate_vma} set up and not
 * finalized, no migration entry left in the page table of a live address space, no page left
 * locked, no page reference left beyond what the page's mappings and page cache hold. Each
 * is reported with the site that created the state: the {@code migrate_vma_setup} call, the
 * install of the migration entry, the {@code lock_page}, the last {@code get_page} (or, for a
 * page never got again, its allocation).
 *
 * <p>Overview. One per kernel ({@link #recording}); it exists only once the checkers are installed:
 * {@link PhysMem} creates it at the first page allocation that records a site, and the four
 * checks are then registered with {@link Kernel#atQuiescence} in that order (the most specific
 * first: an unfinalized migration also leaves entries, locks and references). The migration
 * calls tell it what they open, close and install; the page-lock and reference checks scan
 * the pages of {@link PhysMem}, which record their lock and last get sites themselves.
 *
 * <p>Locking: the records are guarded by this object's monitor; the checks run after the last
 * task, when nothing changes.
 *
 * <p>Differences from the kernel: the kernel has no such checks; an unfinalized migration
 * shows there as tasks hung in {@code migration_entry_wait} or pages never freed.
 */
public final class PageStateChecks {
    /** An open migration: what it is, for the report, and where it was set up. */
    private record Open(String what, Site site) {
    }

    /** One migration entry installed at {@code addr} of {@code pgd} in {@code mm}, naming {@code pfn}. */
    private record Entry(MmStruct mm, PageTable pgd, long addr, long pfn, Site site) {
    }

    private final Kernel kernel;
    private final PhysMem physMem;
    private final Map<Object, Open> open = new IdentityHashMap<>();
    private final List<Entry> entries = new ArrayList<>();

    private PageStateChecks(Kernel kernel, PhysMem physMem) {
        this.kernel = kernel;
        this.physMem = physMem;
        kernel.atQuiescence(KernelRules.MIGRATE_FINALIZED.id(), this::checkMigrations);
        kernel.atQuiescence(KernelRules.NO_MIGRATION_ENTRY_LEFT.id(), this::checkEntries);
        kernel.atQuiescence(KernelRules.NO_PAGE_LEFT_LOCKED.id(), this::checkLocks);
        kernel.atQuiescence(KernelRules.NO_PAGE_REFERENCE_LEFT.id(), this::checkReferences);
    }

    /** Creates the kernel's checks (and registers them) on the first call. Called by {@link PhysMem} only. */
    static PageStateChecks create(PhysMem physMem) {
        Kernel k = physMem.kernel();
        PageStateChecks existing = k.componentOrNull(PageStateChecks.class); // no capturing lambda once made
        return existing != null ? existing : k.component(PageStateChecks.class, () -> new PageStateChecks(k, physMem));
    }

    /**
     * The kernel's checks while the checkers are installed (created on the first call), else
     * null: then there is nothing to record, and the caller captures no site.
     */
    public static PageStateChecks recording(Kernel kernel) {
        PhysMem phys = PhysMem.of(kernel);
        return phys.sites().recording() ? create(phys) : null;
    }

    /**
     * A migration ({@code migration}, by identity) was set up at {@code site}; it must be
     * finished with {@link #migrationFinished} before the end of the run. Pairs with it.
     */
    public synchronized void migrationSetUp(Object migration, String what, Site site) {
        open.put(migration, new Open(what, site));
    }

    /** The migration set up with {@link #migrationSetUp} was finalized. */
    public synchronized void migrationFinished(Object migration) {
        open.remove(migration);
    }

    /** A migration entry naming {@code pfn} was installed at {@code addr} of {@code pgd} in {@code mm}, at {@code site}. */
    public synchronized void migrationEntryInstalled(MmStruct mm, PageTable pgd, long addr, long pfn, Site site) {
        entries.add(new Entry(mm, pgd, addr, pfn, site));
    }

    private void checkMigrations() {
        List<Open> left;
        synchronized (this) {
            left = new ArrayList<>(open.values());
        }
        for (Open o : left) {
            report(KernelRules.MIGRATE_FINALIZED, o.what() + " was set up and never finalized", o.site());
        }
    }

    private void checkEntries() {
        List<Entry> all;
        synchronized (this) {
            all = new ArrayList<>(entries);
        }
        for (Entry e : all) {
            if (e.mm().mmState() != MmState.LIVE) {
                continue;
            }
            long pte = e.pgd().get(e.addr());
            if (Pte.isMigration(pte) && Pte.pfn(pte) == e.pfn()) {
                report(KernelRules.NO_MIGRATION_ENTRY_LEFT, "a migration entry for pfn=0x" + Long.toHexString(e.pfn())
                        + " is left at 0x" + Long.toHexString(e.addr()) + " of " + e.mm().name(), e.site());
            }
        }
    }

    private void checkLocks() {
        for (long pfn = 1; pfn < physMem.highPfn(); pfn++) {
            Page p = physMem.pfnToPage(pfn);
            if (p != null && p.state() != Page.State.FREE && p.isLocked()) {
                report(KernelRules.NO_PAGE_LEFT_LOCKED, p + " is left locked", p.lockSiteForReport());
            }
        }
    }

    private void checkReferences() {
        for (long pfn = 1; pfn < physMem.highPfn(); pfn++) {
            Page p = physMem.pfnToPage(pfn);
            if (p == null || p.state() != Page.State.IN_USE || !p.isAnon() || p.isDevicePrivate()) {
                continue;
            }
            int owned = p.mapcount() + (p.mapping() != null ? 1 : 0);
            if (p.refcount() > owned) {
                report(KernelRules.NO_PAGE_REFERENCE_LEFT, p + " holds " + (p.refcount() - owned)
                        + " reference(s) beyond its mappings (site: its last get_page, or its allocation if none); "
                        + "allocated by " + p.allocSiteForReport(), p.lastReferenceSiteForReport());
            }
        }
    }

    private void report(Rule rule, String detail, Site site) {
        kernel.report(new Failure.InvariantViolation(rule, detail, site));
    }
}
