package hmm4j.kernel.mm.migrate;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Vma;
import hmm4j.sim.Mark;

/**
 * {@code struct migrate_vma}: the arguments and results of one migration of [start, end) of a
 * VMA, passed to {@link MigrateDevice#migrateVmaSetup}, {@link MigrateDevice#migrateVmaPages}
 * and {@link MigrateDevice#migrateVmaFinalize} in that order.
 *
 * <p>The driver sets the mm and VMA, the range, the {@code src} and {@code dst} arrays (at
 * least {@code (end - start) / PAGE_SIZE} entries each), the pgmap owner, the
 * {@code MIGRATE_VMA_SELECT_*} flags and, from {@code migrate_to_ram}, the fault page. Setup
 * fills {@code src} ({@link MigratePfn} encoding), zeroes {@code dst}, and sets
 * {@link #npages} and {@link #cpages}; the driver then fills {@code dst} for the entries it
 * migrates.
 *
 * <p>Lifecycle: {@link Stage#NEW} → {@link Stage#SET_UP} → {@link Stage#PAGES_MIGRATED} →
 * {@link Stage#FINALIZED}; a call out of order raises {@link IllegalStateException} (the
 * kernel trusts the driver). A setup that fails with {@code -EINVAL} leaves the stage
 * {@code NEW}.
 *
 * <p>Differences from the kernel: the model's {@link Vma} has no {@code vm_mm}, so the mm is
 * an argument of its own.
 */
public final class MigrateVma {
    /** Coverage mark: migrate_vma_collect skipped a page whose lock another task held. */
    public static final Mark COLLECT_PAGE_BUSY = Mark.of("migrate.collect.page-busy",
            "migrate_vma_collect skipped a page whose lock another task held");
    /** Coverage mark: migrate_vma_collect skipped an exclusive anonymous page that may be pinned for DMA. */
    public static final Mark COLLECT_PINNED = Mark.of("migrate.collect.pinned",
            "migrate_vma_collect skipped an exclusive anonymous page that may be pinned for DMA");
    /** Coverage mark: migrate_vma_setup put back a collected page still mapped or referenced elsewhere. */
    public static final Mark UNMAP_RESTORE = Mark.of("migrate.unmap.restore",
            "migrate_vma_setup put back a collected page still mapped or referenced elsewhere");
    /** Coverage mark: migrate_vma_pages left a page whose reference count had changed since the collection. */
    public static final Mark PAGES_REFCOUNT_SKIP = Mark.of("migrate.pages.refcount-skip",
            "migrate_vma_pages left a page whose reference count had changed since the collection");

    /** Coverage mark: a PMD leaf (or a PMD without page table) was collected whole with MIGRATE_PFN_COMPOUND. */
    public static final Mark COLLECT_COMPOUND = Mark.of("migrate.collect.compound",
            "migrate_vma_collect_huge_pmd collected a PMD whole (MIGRATE_PFN_COMPOUND)");
    /** Coverage mark: the collection split a PTE-mapped large device folio. */
    public static final Mark COLLECT_SPLIT_PTE_MAPPED = Mark.of("migrate.collect.split-pte-mapped",
            "migrate_vma_collect split a PTE-mapped large device folio (migrate_vma_split_folio)");
    /** Coverage mark: a compound source got base-page destinations and was split in migrate_vma_pages. */
    public static final Mark PAGES_SPLIT_UNMAPPED = Mark.of("migrate.pages.split-unmapped",
            "migrate_vma_pages split a compound source whose destination was base pages");
    /** Coverage mark: a compound hole was filled with one huge PMD. */
    public static final Mark PAGES_INSERT_HUGE_PMD = Mark.of("migrate.pages.insert-huge-pmd",
            "migrate_vma_insert_huge_pmd_page mapped a large destination folio with one PMD");

    /** {@code MIGRATE_VMA_SELECT_SYSTEM}: collect system memory (and holes to fill). */
    public static final int MIGRATE_VMA_SELECT_SYSTEM = 1 << 0;
    /** {@code MIGRATE_VMA_SELECT_DEVICE_PRIVATE}: collect device-private pages of {@code pgmap_owner}. */
    public static final int MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1;
    /** {@code MIGRATE_VMA_SELECT_DEVICE_COHERENT}: collect device-coherent pages of {@code pgmap_owner} (present entries). */
    public static final int MIGRATE_VMA_SELECT_DEVICE_COHERENT = 1 << 2;
    /**
     * {@code MIGRATE_VMA_SELECT_COMPOUND}: collect a PMD leaf covering a whole aligned 2 MiB
     * chunk of the range as one {@link MigratePfn#MIGRATE_PFN_COMPOUND} entry instead of
     * splitting it (device-private THP migration; see {@link MigrateHuge}).
     */
    public static final int MIGRATE_VMA_SELECT_COMPOUND = 1 << 3;

    /** Where the migration is in its three calls. */
    public enum Stage { NEW, SET_UP, PAGES_MIGRATED, FINALIZED }

    private final MmStruct mm;
    private final Vma vma;
    private final long[] src;
    private final long[] dst;
    private final Object pgmapOwner;
    private final int flags;
    private long start;
    private long end;
    private int npages;
    private int cpages;
    private Page faultPage;
    private Stage stage = Stage.NEW;

    /**
     * The arguments of a migration of [{@code start}, {@code end}) of {@code vma} in
     * {@code mm}. Nothing is checked here; {@link MigrateDevice#migrateVmaSetup} answers
     * {@code -EINVAL} for bad arguments, as the kernel does.
     */
    public MigrateVma(MmStruct mm, Vma vma, long start, long end, long[] src, long[] dst, Object pgmapOwner,
                      int flags) {
        this.mm = mm;
        this.vma = vma;
        this.start = start;
        this.end = end;
        this.src = src;
        this.dst = dst;
        this.pgmapOwner = pgmapOwner;
        this.flags = flags;
    }

    /**
     * Sets {@code fault_page}: the device-private page whose CPU fault led to this migration
     * ({@code vmf.page()} in {@code migrate_to_ram}). It must be locked by the caller (the
     * fault handler locked it) and stays locked through finalize.
     */
    public MigrateVma faultPage(Page page) {
        this.faultPage = page;
        return this;
    }

    public MmStruct mm() { return mm; }

    public Vma vma() { return vma; }

    /** {@code start}: page aligned by setup. */
    public long start() { return start; }

    /** {@code end}: set by setup to {@code start + npages * PAGE_SIZE}. */
    public long end() { return end; }

    /** {@code src}: the collected entries ({@link MigratePfn}). */
    public long[] src() { return src; }

    /** {@code dst}: the driver's destination pages ({@link MigratePfn}). */
    public long[] dst() { return dst; }

    /** {@code npages}: entries of {@code src}/{@code dst} in use, one per page of the range. */
    public int npages() { return npages; }

    /** {@code cpages}: pages collected and unmapped by setup (holes to fill included). */
    public int cpages() { return cpages; }

    /** {@code pgmap_owner}: the owner of the MIGRATE invalidation and of the device pages selected. */
    public Object pgmapOwner() { return pgmapOwner; }

    /** {@code flags}: {@code MIGRATE_VMA_SELECT_*}. */
    public int flags() { return flags; }

    /** {@code fault_page}, or null. */
    public Page faultPage() { return faultPage; }

    public Stage stage() { return stage; }

    // ---- set by the core ----

    void setRange(long start, long end) {
        this.start = start;
        this.end = end;
    }

    void setNpages(int n) {
        this.npages = n;
    }

    void setCpages(int n) {
        this.cpages = n;
    }

    void advance(Stage from, Stage to, String call) {
        if (stage != from) {
            throw new IllegalStateException(call + " on a migrate_vma in stage " + stage + " (expected " + from + ")");
        }
        stage = to;
    }

    @Override
    public String toString() {
        return "migrate_vma [0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ") flags=" + flags
                + " npages=" + npages + " cpages=" + cpages + " " + stage;
    }
}
