package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.Pte.PAGE_SHIFT;
import static hmm4j.kernel.mm.Pte.PGDIR_SIZE;
import static hmm4j.kernel.mm.Pte.PMD_SIZE;
import static hmm4j.kernel.mm.Pte.PTRS_PER_TABLE;
import static hmm4j.kernel.mm.Pte.PUD_SIZE;
import static hmm4j.kernel.mm.Pte.TASK_SIZE;
import static hmm4j.kernel.mm.Pte.pgdIndex;
import static hmm4j.kernel.mm.Pte.pmdIndex;
import static hmm4j.kernel.mm.Pte.pteIndex;
import static hmm4j.kernel.mm.Pte.pudIndex;

/**
 * The page tables of one address space: a 4-level radix table from user virtual address to
 * {@link Pte} entry.
 *
 * <p>Overview. Levels are plain Java arrays: the pgd is a {@code long[][][][]}, a PUD table a
 * {@code long[][][]}, a PMD table a {@code long[][]} and a PTE table a {@code long[512]} of
 * encoded entries. Lower levels are allocated on the first {@link #set} of a non-none entry
 * below them and are only released by {@link #freeTables}, as the kernel keeps empty page
 * tables until {@code free_pgtables}. Lookups and walks allocate nothing; a walk jumps over an
 * absent table in one step, so its cost is proportional to the tables present, not to the
 * length of the range.
 *
 * <p>Locking. Not thread-safe. Callers hold the owning mm's {@code page_table_lock} (the
 * model's single page-table lock) for every call that reads or writes entries, and the mmap
 * lock for write around {@link #freeTables}, as the kernel does around {@code free_pgtables}.
 *
 * <p>Differences from the kernel (mm/memory.c, include/linux/pgtable.h): no p4d level
 * (4-level paging, {@link Pte#TASK_SIZE} = 2^47); a single lock instead of split PTE locks;
 * tables are freed only by {@link #freeTables} and {@link #clearPmdLeaf}, never by zapping.
 *
 * <p>PMD leaves (transparent huge pages, see {@link HugeMemory}). A PMD-mapped huge page is
 * stored as a PTE table whose 512 entries are all present and carry {@link Pte#HUGE}, with
 * the same flag bits and consecutive pfns: entry {@code i} maps pfn {@code head + i}. A
 * non-present PMD leaf (a PMD migration entry, or the device-private entry of a device THP) is
 * stored the same way with 512 migration or device-private entries. A lookup
 * inside it therefore answers what the kernel computes from the PMD ({@code pmd_pfn + index}),
 * and a reader that only needs a pfn per page works unchanged; {@link #isPmdLeaf} tells the
 * level. Such a table exists only between {@link #setPmdLeaf} and {@link #splitPmdLeaf}
 * ({@code __split_huge_pmd_locked}: the entries lose HUGE and become an ordinary PTE table)
 * or {@link #clearPmdLeaf} ({@code zap_huge_pmd}: the PMD is none again). Changing one entry
 * of a leaf so that it loses HUGE, or clearing part of a leaf, is a model bug and throws
 * {@link IllegalStateException}: the caller must split first, as the kernel does.
 */
public final class PageTable {

    /** Visits one non-none entry; returns false to stop the walk. */
    @FunctionalInterface
    public interface EntryVisitor {
        boolean visit(long addr, long pte);
    }

    /** Estimated JVM array header, in bytes. */
    static final long ARRAY_HEADER_BYTES = 16;
    /** Estimated size of a reference slot (compressed oops). */
    static final long REFERENCE_BYTES = 4;

    private final long[][][][] pgd = new long[PTRS_PER_TABLE][][][];
    private long pudTables;
    private long pmdTables;
    private long pteTables;
    private long entries;
    private long pmdLeaves;

    /**
     * The entry mapping {@code addr}, or 0 ({@code pte_none}) when it or any level above it is
     * absent. Caller holds the page-table lock.
     */
    public long get(long addr) {
        checkAddress(addr);
        long[][][] pud = pgd[pgdIndex(addr)];
        if (pud == null) return 0;
        long[][] pmd = pud[pudIndex(addr)];
        if (pmd == null) return 0;
        long[] pte = pmd[pmdIndex(addr)];
        if (pte == null) return 0;
        return pte[pteIndex(addr)];
    }

    /**
     * Stores {@code pte} as the entry for {@code addr}, allocating missing tables (the
     * kernel's {@code pte_alloc} + {@code set_pte_at}). Setting a none entry where no table
     * exists allocates nothing. Caller holds the page-table lock.
     */
    public void set(long addr, long pte) {
        checkAddress(addr);
        long[] table = pte != 0 ? pteTableAlloc(addr) : pteTableOrNull(addr);
        if (table == null) {
            return;
        }
        int i = pteIndex(addr);
        long old = table[i];
        if (((old ^ pte) & Pte.HUGE) != 0) {
            throw leafChanged(addr, old);
        }
        table[i] = pte;
        entries += (pte != 0 ? 1 : 0) - (old != 0 ? 1 : 0);
    }

    /** {@code ptep_get_and_clear}: clears the entry for {@code addr} and returns what it held. */
    public long getAndClear(long addr) {
        checkAddress(addr);
        long[] table = pteTableOrNull(addr);
        if (table == null) {
            return 0;
        }
        int i = pteIndex(addr);
        long old = table[i];
        if (Pte.isHuge(old)) {
            throw leafChanged(addr, old);
        }
        if (old != 0) {
            table[i] = 0;
            entries--;
        }
        return old;
    }

    /**
     * The PTE table covering {@code addr} (the kernel's {@code pte_offset_map}), or null. The
     * entry for {@code addr} is at {@link Pte#pteIndex}. For fast read-only scans: callers hold
     * the page-table lock and must not write through the array (use {@link #set}).
     */
    public long[] pteTableOrNull(long addr) {
        checkAddress(addr);
        long[][][] pud = pgd[pgdIndex(addr)];
        if (pud == null) return null;
        long[][] pmd = pud[pudIndex(addr)];
        if (pmd == null) return null;
        return pmd[pmdIndex(addr)];
    }

    /**
     * Calls {@code visitor} for every non-none entry in [{@code start}, {@code end}), in address
     * order, skipping absent tables without touching their range. Returns false if the visitor
     * stopped the walk. The visitor must not change this table. The bounds are page aligned.
     * Caller holds the page-table lock.
     */
    public boolean forEach(long start, long end, EntryVisitor visitor) {
        return walk(start, end, (table, from, to, base) -> {
            for (int i = from; i <= to; i++) {
                long pte = table[i];
                if (pte != 0 && !visitor.visit(base + ((long) i << PAGE_SHIFT), pte)) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * Clears every entry in [{@code start}, {@code end}) and returns how many were non-none.
     * Tables stay allocated. The bounds are page aligned. Caller holds the page-table lock and
     * has already dealt with what the entries referenced (page references, swap slots).
     */
    public long clearRange(long start, long end) {
        long before = entries;
        walk(start, end, (table, from, to, base) -> {
            if (Pte.isHuge(table[from])) {
                throw leafChanged(base + ((long) from << PAGE_SHIFT), table[from]);
            }
            for (int i = from; i <= to; i++) {
                if (table[i] != 0) {
                    table[i] = 0;
                    entries--;
                }
            }
            return true;
        });
        return before - entries;
    }

    /** What a walk does with the slice [from, to] of one PTE table; {@code base} maps index 0. */
    @FunctionalInterface
    private interface LeafAction {
        boolean apply(long[] table, int from, int to, long base);
    }

    private boolean walk(long start, long end, LeafAction action) {
        checkRange(start, end);
        long addr = start;
        while (addr < end) {
            long next = nextBoundary(addr, PGDIR_SIZE, end);
            long[][][] pud = pgd[pgdIndex(addr)];
            if (pud != null && !walkPud(pud, addr, next, action)) {
                return false;
            }
            addr = next;
        }
        return true;
    }

    private static boolean walkPud(long[][][] pud, long addr, long end, LeafAction action) {
        while (addr < end) {
            long next = nextBoundary(addr, PUD_SIZE, end);
            long[][] pmd = pud[pudIndex(addr)];
            if (pmd != null && !walkPmd(pmd, addr, next, action)) {
                return false;
            }
            addr = next;
        }
        return true;
    }

    private static boolean walkPmd(long[][] pmd, long addr, long end, LeafAction action) {
        while (addr < end) {
            long next = nextBoundary(addr, PMD_SIZE, end);
            long[] table = pmd[pmdIndex(addr)];
            if (table != null && !action.apply(table, pteIndex(addr), pteIndex(next - 1), addr & Pte.PMD_MASK)) {
                return false;
            }
            addr = next;
        }
        return true;
    }

    /**
     * {@code free_pgtables}: frees every table below the pgd whose whole span lies inside
     * [{@code start}, {@code end}). The caller chooses the bounds (for munmap, the gap between
     * the neighbouring VMAs) and must have cleared the entries first: a table still holding a
     * non-none entry raises {@link IllegalStateException}, since freeing it would leak what
     * the entry maps. The bounds are page aligned. Caller holds the mmap lock (munmap: for
     * read, after its downgrade, with the range detached) and the page-table lock.
     */
    public void freeTables(long start, long end) {
        checkRange(start, end);
        long addr = start;
        while (addr < end) {
            long next = nextBoundary(addr, PGDIR_SIZE, end);
            int g = pgdIndex(addr);
            long[][][] pud = pgd[g];
            if (pud != null) {
                if (covers(addr, next, PGDIR_SIZE)) {
                    requireEmpty(pud, addr);
                    pgd[g] = null;
                    countFreedPud(pud);
                } else {
                    freePmdTables(pud, addr, next);
                }
            }
            addr = next;
        }
    }

    private void freePmdTables(long[][][] pud, long addr, long end) {
        while (addr < end) {
            long next = nextBoundary(addr, PUD_SIZE, end);
            int u = pudIndex(addr);
            long[][] pmd = pud[u];
            if (pmd != null) {
                if (covers(addr, next, PUD_SIZE)) {
                    requireEmpty(pmd, addr);
                    pud[u] = null;
                    countFreedPmd(pmd);
                } else {
                    freePteTables(pmd, addr, next);
                }
            }
            addr = next;
        }
    }

    private void freePteTables(long[][] pmd, long addr, long end) {
        while (addr < end) {
            long next = nextBoundary(addr, PMD_SIZE, end);
            int m = pmdIndex(addr);
            long[] table = pmd[m];
            if (table != null && covers(addr, next, PMD_SIZE)) {
                requireEmpty(table, addr);
                pmd[m] = null;
                pteTables--;
            }
            addr = next;
        }
    }

    // ---- PMD leaves ----

    /**
     * True when {@code addr} lies in a PMD leaf ({@code pmd_trans_huge}): its PTE table exists
     * and holds {@link Pte#HUGE} entries. Caller holds the page-table lock.
     */
    public boolean isPmdLeaf(long addr) {
        if (pmdLeaves == 0) {
            return false;
        }
        long[] table = pteTableOrNull(addr);
        return table != null && Pte.isHuge(table[0]);
    }

    /** True when the PMD slot of {@code addr} has no table at all ({@code pmd_none}). */
    public boolean isPmdNone(long addr) {
        return pteTableOrNull(addr) == null;
    }

    /** Number of PMD leaves. */
    public long pmdLeafCount() {
        return pmdLeaves;
    }

    /**
     * {@code set_pmd_at} of a huge entry: the PMD slot of {@code haddr} (PMD aligned, and
     * {@link #isPmdNone}) becomes a leaf whose entry {@code i} is {@code head} (a present
     * entry of the first pfn) with {@link Pte#HUGE} and pfn {@code + i}.
     *
     * @throws IllegalStateException if the slot is not none or {@code haddr} is not PMD aligned
     */
    public void setPmdLeaf(long haddr, long head) {
        checkAddress(haddr);
        if ((haddr & ~Pte.PMD_MASK) != 0 || !isPmdNone(haddr) || !isLeafKind(head)) {
            throw new IllegalStateException("set_pmd_at: 0x" + Long.toHexString(haddr) + " is not a none PMD");
        }
        long[] table = pteTableAlloc(haddr);
        long entry = head | Pte.HUGE;
        for (int i = 0; i < PTRS_PER_TABLE; i++) {
            table[i] = entry + ((long) i << Pte.PFN_SHIFT);
        }
        entries += PTRS_PER_TABLE;
        pmdLeaves++;
    }

    /**
     * The kinds of entry a PMD leaf may be ({@code pmd_trans_huge}, or a non-present PMD the
     * kernel builds since v6.19): present, a PMD migration entry ({@code set_pmd_migration_entry})
     * or a device-private PMD entry (a device-private THP).
     */
    private static boolean isLeafKind(long head) {
        return Pte.isPresent(head) || Pte.isMigration(head) || Pte.isDevicePrivate(head);
    }

    /**
     * Replaces the leaf of {@code haddr} by a leaf of {@code head} (another kind or pfn: the
     * PMD's {@code set_pmd_migration_entry}, {@code remove_migration_pmd}); the PMD stays a
     * leaf, no entry is counted twice. Caller holds the page-table lock.
     */
    public void replacePmdLeaf(long haddr, long head) {
        long[] table = leafTable(haddr);
        if (!isLeafKind(head) || (Pte.pfn(head) & (PTRS_PER_TABLE - 1)) != 0) {
            throw new IllegalStateException("a PMD leaf needs an aligned present, migration or device-private head: "
                    + Pte.toString(head));
        }
        long entry = head | Pte.HUGE;
        for (int i = 0; i < PTRS_PER_TABLE; i++) {
            table[i] = entry + ((long) i << Pte.PFN_SHIFT);
        }
    }

    /**
     * Rewrites every entry of the leaf of {@code haddr} with {@code update} applied to its
     * flag bits (the pfns stay), as one PMD entry changes ({@code change_huge_pmd},
     * {@code pmdp_set_wrprotect}, {@code touch_pmd}). {@code update} must keep the entry's
     * kind and HUGE.
     */
    public void updatePmdLeaf(long haddr, java.util.function.LongUnaryOperator update) {
        long[] table = leafTable(haddr);
        long head = table[0];
        long updated = update.applyAsLong(head);
        if (!Pte.isHuge(updated) || Pte.type(updated) != Pte.type(head) || Pte.pfn(updated) != Pte.pfn(head)) {
            throw new IllegalStateException("a PMD leaf update must keep the leaf: " + Pte.toString(updated));
        }
        for (int i = 0; i < PTRS_PER_TABLE; i++) {
            table[i] = updated + ((long) i << Pte.PFN_SHIFT);
        }
    }

    /** The head entry of the leaf of {@code addr} ({@code *pmd}). */
    public long pmdLeaf(long addr) {
        return leafTable(addr)[0];
    }

    /**
     * {@code __split_huge_pmd_locked}: the leaf of {@code haddr} becomes an ordinary PTE
     * table; each entry keeps its pfn and flags without {@link Pte#HUGE}, and an entry of the
     * huge zero page becomes one of the ordinary zero page ({@code __split_huge_zero_page_pmd}).
     */
    public void splitPmdLeaf(long haddr, long hugeZeroPfn) {
        long[] table = leafTable(haddr);
        for (int i = 0; i < PTRS_PER_TABLE; i++) {
            long e = table[i] & ~Pte.HUGE;
            if (hugeZeroPfn != 0 && Pte.pfn(e) - i == hugeZeroPfn) {
                e = Pte.mkZero();
            }
            table[i] = e;
        }
        pmdLeaves--;
    }

    /**
     * {@code pmdp_huge_get_and_clear} in {@code zap_huge_pmd}: removes the leaf of
     * {@code haddr}, table and all, so that the PMD is none again. The caller has released
     * what the entries referenced.
     */
    public void clearPmdLeaf(long haddr) {
        leafTable(haddr);
        long[][] pmd = pgd[pgdIndex(haddr)][pudIndex(haddr)];
        pmd[pmdIndex(haddr)] = null;
        entries -= PTRS_PER_TABLE;
        pteTables--;
        pmdLeaves--;
    }

    /**
     * Drops the PTE table of {@code haddr}'s PMD slot if it holds no entry, making the PMD none
     * ({@code pmdp_collapse_flush} before a collapse maps a leaf there). Returns whether it did.
     */
    public boolean freeEmptyPteTable(long haddr) {
        long[] table = pteTableOrNull(haddr);
        if (table == null) {
            return false;
        }
        for (long e : table) {
            if (e != 0) {
                return false;
            }
        }
        pgd[pgdIndex(haddr)][pudIndex(haddr)][pmdIndex(haddr)] = null;
        pteTables--;
        return true;
    }

    private long[] leafTable(long addr) {
        long[] table = pteTableOrNull(addr);
        if (table == null || !Pte.isHuge(table[0])) {
            throw new IllegalStateException("no PMD leaf at 0x" + Long.toHexString(addr));
        }
        return table;
    }

    private static IllegalStateException leafChanged(long addr, long old) {
        return new IllegalStateException("an entry of a PMD leaf changed without split_huge_pmd at 0x"
                + Long.toHexString(addr) + " (" + Pte.toString(old) + ")");
    }

    /** True while any table below the pgd exists (false after a complete {@link #freeTables}). */
    public boolean hasTablesBelowPgd() {
        return pudTables != 0;
    }

    /** Number of non-none entries. */
    public long entryCount() {
        return entries;
    }

    /** Number of tables, the pgd included. */
    public long tableCount() {
        return 1 + pudTables + pmdTables + pteTables;
    }

    /** Number of PTE (last-level) tables. */
    public long pteTableCount() {
        return pteTables;
    }

    /**
     * Estimated heap footprint of the tables in bytes: per table an array header plus 8 bytes
     * per PTE slot or {@value #REFERENCE_BYTES} per reference slot. Dense mappings cost a little
     * over 8 bytes per present entry.
     */
    public long bytesUsed() {
        long referenceTable = ARRAY_HEADER_BYTES + PTRS_PER_TABLE * REFERENCE_BYTES;
        long leafTable = ARRAY_HEADER_BYTES + PTRS_PER_TABLE * Long.BYTES;
        return (1 + pudTables + pmdTables) * referenceTable + pteTables * leafTable;
    }

    // ---- internals ----

    private long[] pteTableAlloc(long addr) {
        int g = pgdIndex(addr);
        long[][][] pud = pgd[g];
        if (pud == null) {
            pud = pgd[g] = new long[PTRS_PER_TABLE][][];
            pudTables++;
        }
        int u = pudIndex(addr);
        long[][] pmd = pud[u];
        if (pmd == null) {
            pmd = pud[u] = new long[PTRS_PER_TABLE][];
            pmdTables++;
        }
        int m = pmdIndex(addr);
        long[] table = pmd[m];
        if (table == null) {
            table = pmd[m] = new long[PTRS_PER_TABLE];
            pteTables++;
        }
        return table;
    }

    private void countFreedPud(long[][][] pud) {
        pudTables--;
        for (long[][] pmd : pud) {
            if (pmd != null) {
                countFreedPmd(pmd);
            }
        }
    }

    private void countFreedPmd(long[][] pmd) {
        pmdTables--;
        for (long[] table : pmd) {
            if (table != null) {
                pteTables--;
            }
        }
    }

    private static void requireEmpty(long[][][] pud, long base) {
        for (int u = 0; u < PTRS_PER_TABLE; u++) {
            if (pud[u] != null) {
                requireEmpty(pud[u], base + u * PUD_SIZE);
            }
        }
    }

    private static void requireEmpty(long[][] pmd, long base) {
        for (int m = 0; m < PTRS_PER_TABLE; m++) {
            if (pmd[m] != null) {
                requireEmpty(pmd[m], base + m * PMD_SIZE);
            }
        }
    }

    private static void requireEmpty(long[] table, long base) {
        for (int i = 0; i < PTRS_PER_TABLE; i++) {
            if (table[i] != 0) {
                long addr = base + ((long) i << PAGE_SHIFT);
                throw new IllegalStateException("free_pgtables: table still maps 0x" + Long.toHexString(addr)
                        + " (" + Pte.toString(table[i]) + ")");
            }
        }
    }

    /** True when [addr, next) is the whole aligned span of {@code size} that contains addr. */
    private static boolean covers(long addr, long next, long size) {
        return (addr & (size - 1)) == 0 && next - addr == size;
    }

    private static long nextBoundary(long addr, long size, long end) {
        long boundary = (addr + size) & ~(size - 1);
        return Math.min(boundary, end);
    }

    private static void checkAddress(long addr) {
        if (addr < 0 || addr >= TASK_SIZE) {
            throw new IllegalArgumentException("not a user address: 0x" + Long.toHexString(addr));
        }
    }

    private static void checkRange(long start, long end) {
        if (start < 0 || end > TASK_SIZE || start > end || !Pte.isPageAligned(start) || !Pte.isPageAligned(end)) {
            throw new IllegalArgumentException("bad range [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(end) + ")");
        }
    }
}
