package hmm4j.kernel.mm;

/**
 * Page-table entries as plain {@code long}s, and the address-space geometry they live in.
 * Never an object per entry: every method here is a static function of the encoded value,
 * as the kernel's {@code pte_*} helpers are functions of a {@code pte_t}.
 *
 * <p>Overview. An entry is 64 bits:
 * <pre>
 *  63                                12 11   9   8       7        6       5     4     3    2    0
 * +------------------------------------+------+------+--------+-------+-----+-----+-----+------+
 * | pfn, or swap offset (52 bits)      | rsvd | HUGE |PROTNONE|SPECIAL|YOUNG|DIRTY|WRITE| type |
 * +------------------------------------+------+------+--------+-------+-----+-----+-----+------+
 * </pre>
 * The 3-bit type field distinguishes the kinds of entry; an entry of {@code 0L} is
 * {@code pte_none} and no other entry has type 0.
 * <table>
 *   <caption>entry types</caption>
 *   <tr><th>type</th><th>value</th><th>upper field</th><th>meaningful flag bits</th></tr>
 *   <tr><td>{@link Type#NONE}</td><td>0 (whole entry 0)</td><td>-</td><td>-</td></tr>
 *   <tr><td>{@link Type#PRESENT}</td><td>1</td><td>pfn</td>
 *       <td>WRITE, DIRTY, YOUNG, SPECIAL, PROTNONE, HUGE</td></tr>
 *   <tr><td>{@link Type#SWAP}</td><td>2</td><td>swap offset</td><td>-</td></tr>
 *   <tr><td>{@link Type#MIGRATION}</td><td>3</td><td>pfn</td><td>WRITE</td></tr>
 *   <tr><td>{@link Type#DEVICE_PRIVATE}</td><td>4</td><td>device pfn</td><td>WRITE</td></tr>
 *   <tr><td>{@link Type#DEVICE_EXCLUSIVE}</td><td>5</td><td>pfn</td><td>WRITE</td></tr>
 * </table>
 * Types 6 and 7 and bits 9-11 are reserved (soft-dirty, uffd-wp markers, hwpoison entries).
 *
 * <p>The shared zero page is not a type of its own: it is a PRESENT, SPECIAL, read-only entry
 * whose pfn is {@link PhysMem#ZERO_PFN} ({@link #mkZero()}, {@link #isZero}), which is how the
 * kernel maps it on architectures with special PTEs. Code that must refuse special mappings
 * but accept the zero page (the {@code hmm_range_fault} rule) tests {@link #isZero} first.
 *
 * <p>Huge mappings. Bit 8 (HUGE) marks the entries of a PMD leaf (a PMD-mapped THP,
 * {@link HugeMemory}): {@link PageTable} stores the leaf as 512 PRESENT entries with HUGE set,
 * the same flag bits and consecutive pfns from a 512-aligned head, so a lookup of an address
 * inside it answers {@code head + pteIndex(addr)}, as the kernel computes from the PMD. PUD
 * leaves are not built.
 *
 * <p>Differences from the kernel (include/linux/pgtable.h, include/linux/swapops.h,
 * arch/x86/include/asm/pgtable_types.h): non-present entries carry their kind in the type
 * field rather than in a swap "type" number; swap entries have a single swap device; the
 * accessed and dirty bits of migration entries, and exclusive/soft-dirty swap bits, are not
 * modelled. All flag helpers are pure functions: they do not check the entry's type, exactly
 * as the kernel's do not.
 */
public final class Pte {

    /** log2 of the page size. */
    public static final int PAGE_SHIFT = 12;
    /** 4 KiB. */
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** Clears the offset within a page: {@code addr & PAGE_MASK} is the page's address. */
    public static final long PAGE_MASK = ~(PAGE_SIZE - 1);
    /** Entries per table at every level. */
    public static final int PTRS_PER_TABLE = 512;
    /** Address bits mapped by one PMD entry (2 MiB). */
    public static final int PMD_SHIFT = 21;
    public static final long PMD_SIZE = 1L << PMD_SHIFT;
    public static final long PMD_MASK = ~(PMD_SIZE - 1);
    /** Address bits mapped by one PUD entry (1 GiB). */
    public static final int PUD_SHIFT = 30;
    public static final long PUD_SIZE = 1L << PUD_SHIFT;
    public static final long PUD_MASK = ~(PUD_SIZE - 1);
    /** Address bits mapped by one PGD entry (512 GiB). */
    public static final int PGDIR_SHIFT = 39;
    public static final long PGDIR_SIZE = 1L << PGDIR_SHIFT;
    public static final long PGDIR_MASK = ~(PGDIR_SIZE - 1);
    /** End of the user address space with 4-level tables: 128 TiB. */
    public static final long TASK_SIZE = 1L << 47;

    /** The kinds of entry, in type-field order. */
    public enum Type { NONE, PRESENT, SWAP, MIGRATION, DEVICE_PRIVATE, DEVICE_EXCLUSIVE }

    private static final Type[] TYPES = Type.values();
    private static final long TYPE_MASK = 0x7L;
    private static final long T_PRESENT = 1;
    private static final long T_SWAP = 2;
    private static final long T_MIGRATION = 3;
    private static final long T_DEVICE_PRIVATE = 4;
    private static final long T_DEVICE_EXCLUSIVE = 5;

    /** Writable (present), or a writable migration/device entry. */
    public static final long WRITE = 1L << 3;
    /** Written since last cleaned (present entries). */
    public static final long DIRTY = 1L << 4;
    /** Accessed since last aged (present entries). */
    public static final long YOUNG = 1L << 5;
    /** No normal struct page behind the pfn ({@code pte_special}). */
    public static final long SPECIAL = 1L << 6;
    /** Present but inaccessible (NUMA hinting / PROT_NONE). */
    public static final long PROTNONE = 1L << 7;
    /** Leaf above the last level (PMD or PUD huge mapping); reserved. */
    public static final long HUGE = 1L << 8;

    /** First bit of the pfn / swap-offset field. */
    public static final int PFN_SHIFT = PAGE_SHIFT;
    /** Largest encodable pfn or swap offset (52 bits). */
    public static final long MAX_PFN = (1L << (64 - PFN_SHIFT)) - 1;

    private Pte() {
    }

    // ---- geometry (pgtable.h) ----

    /** Index into the top-level table. */
    public static int pgdIndex(long addr) {
        return (int) ((addr >>> PGDIR_SHIFT) & (PTRS_PER_TABLE - 1));
    }

    /** Index into a PUD table. */
    public static int pudIndex(long addr) {
        return (int) ((addr >>> PUD_SHIFT) & (PTRS_PER_TABLE - 1));
    }

    /** Index into a PMD table. */
    public static int pmdIndex(long addr) {
        return (int) ((addr >>> PMD_SHIFT) & (PTRS_PER_TABLE - 1));
    }

    /** Index into a PTE table. */
    public static int pteIndex(long addr) {
        return (int) ((addr >>> PAGE_SHIFT) & (PTRS_PER_TABLE - 1));
    }

    /** {@code PAGE_ALIGNED}. */
    public static boolean isPageAligned(long addr) {
        return (addr & ~PAGE_MASK) == 0;
    }

    /** {@code PAGE_ALIGN}: rounds up to a page boundary. */
    public static long pageAlign(long addr) {
        return (addr + PAGE_SIZE - 1) & PAGE_MASK;
    }

    // ---- present entries ----

    /** {@code pfn_pte}: a present entry for {@code pfn}, writable if {@code write}; not dirty, not young. */
    public static long mkPresent(long pfn, boolean write) {
        return withPfn(T_PRESENT, pfn) | (write ? WRITE : 0);
    }

    /** The shared zero page: present, special, read-only. */
    public static long mkZero() {
        return mkPresent(PhysMem.ZERO_PFN, false) | SPECIAL;
    }

    /** {@code pte_none}. */
    public static boolean isNone(long pte) {
        return pte == 0;
    }

    /** {@code pte_present}: true for PROT_NONE entries too, as in the kernel. */
    public static boolean isPresent(long pte) {
        return (pte & TYPE_MASK) == T_PRESENT;
    }

    /** A present mapping of the shared zero page. */
    public static boolean isZero(long pte) {
        return isPresent(pte) && pfn(pte) == PhysMem.ZERO_PFN;
    }

    /** True for entries whose upper field is a pfn: present, migration, device-private, device-exclusive. */
    public static boolean hasPfn(long pte) {
        long t = pte & TYPE_MASK;
        return t == T_PRESENT || t == T_MIGRATION || t == T_DEVICE_PRIVATE || t == T_DEVICE_EXCLUSIVE;
    }

    /** {@code pte_pfn} / {@code swp_offset_pfn}: the pfn field; meaningful only when {@link #hasPfn}. */
    public static long pfn(long pte) {
        return pte >>> PFN_SHIFT;
    }

    /** {@code pte_write}, or the writability of a migration/device entry. */
    public static boolean isWrite(long pte) {
        return (pte & WRITE) != 0;
    }

    /** {@code pte_mkwrite}. */
    public static long mkWrite(long pte) {
        return pte | WRITE;
    }

    /** {@code pte_wrprotect}. */
    public static long wrprotect(long pte) {
        return pte & ~WRITE;
    }

    /** {@code pte_mkdirty}. */
    public static long mkDirty(long pte) {
        return pte | DIRTY;
    }

    /** {@code pte_mkclean}. */
    public static long mkClean(long pte) {
        return pte & ~DIRTY;
    }

    /** {@code pte_dirty}. */
    public static boolean isDirty(long pte) {
        return (pte & DIRTY) != 0;
    }

    /** {@code pte_mkyoung}. */
    public static long mkYoung(long pte) {
        return pte | YOUNG;
    }

    /** {@code pte_mkold}. */
    public static long mkOld(long pte) {
        return pte & ~YOUNG;
    }

    /** {@code pte_young}. */
    public static boolean isYoung(long pte) {
        return (pte & YOUNG) != 0;
    }

    /** {@code pte_mkspecial}. */
    public static long mkSpecial(long pte) {
        return pte | SPECIAL;
    }

    /** {@code pte_special}. */
    public static boolean isSpecial(long pte) {
        return (pte & SPECIAL) != 0;
    }

    /** Makes a present entry inaccessible while keeping it present ({@code pte_modify} to PROT_NONE). */
    public static long mkProtNone(long pte) {
        return pte | PROTNONE;
    }

    /** Makes a PROT_NONE entry accessible again. */
    public static long clearProtNone(long pte) {
        return pte & ~PROTNONE;
    }

    /** {@code pte_protnone}. */
    public static boolean isProtNone(long pte) {
        return isPresent(pte) && (pte & PROTNONE) != 0;
    }

    /** An entry of a PMD leaf ({@code pmd_trans_huge} of the PMD mapping it). */
    public static boolean isHuge(long pte) {
        return (pte & HUGE) != 0;
    }

    // ---- non-present entries (swapops.h) ----

    /** A swap entry for slot {@code offset} of the {@link SwapSpace}. */
    public static long mkSwap(long offset) {
        return withPfn(T_SWAP, offset);
    }

    /** A real swap entry (the kernel's {@code !non_swap_entry}). */
    public static boolean isSwap(long pte) {
        return (pte & TYPE_MASK) == T_SWAP;
    }

    /**
     * {@code is_swap_pte}: any non-none, non-present entry (swap, migration, device-private,
     * device-exclusive).
     */
    public static boolean isSwapPte(long pte) {
        return pte != 0 && !isPresent(pte);
    }

    /** {@code swp_offset} of a swap entry. */
    public static long swapOffset(long pte) {
        return pte >>> PFN_SHIFT;
    }

    /** {@code make_{readable,writable}_migration_entry}. */
    public static long mkMigration(long pfn, boolean write) {
        return withPfn(T_MIGRATION, pfn) | (write ? WRITE : 0);
    }

    /** {@code is_migration_entry}. */
    public static boolean isMigration(long pte) {
        return (pte & TYPE_MASK) == T_MIGRATION;
    }

    /** {@code make_{readable,writable}_device_private_entry}. */
    public static long mkDevicePrivate(long pfn, boolean write) {
        return withPfn(T_DEVICE_PRIVATE, pfn) | (write ? WRITE : 0);
    }

    /** {@code is_device_private_entry}. */
    public static boolean isDevicePrivate(long pte) {
        return (pte & TYPE_MASK) == T_DEVICE_PRIVATE;
    }

    /** {@code make_device_exclusive_entry}. */
    public static long mkDeviceExclusive(long pfn, boolean write) {
        return withPfn(T_DEVICE_EXCLUSIVE, pfn) | (write ? WRITE : 0);
    }

    /** {@code is_device_exclusive_entry}. */
    public static boolean isDeviceExclusive(long pte) {
        return (pte & TYPE_MASK) == T_DEVICE_EXCLUSIVE;
    }

    /** The entry's kind. An entry with a reserved type raises {@link IllegalArgumentException}. */
    public static Type type(long pte) {
        if (pte == 0) {
            return Type.NONE;
        }
        int t = (int) (pte & TYPE_MASK);
        if (t == 0 || t >= TYPES.length) {
            throw new IllegalArgumentException("malformed page-table entry 0x" + Long.toHexString(pte));
        }
        return TYPES[t];
    }

    /** A readable rendering for traces and assertion messages, e.g. {@code present pfn=0x2a W D Y}. */
    public static String toString(long pte) {
        if (pte == 0) {
            return "none";
        }
        int t = (int) (pte & TYPE_MASK);
        if (t == 0 || t >= TYPES.length) {
            return "malformed 0x" + Long.toHexString(pte);
        }
        StringBuilder sb = new StringBuilder(32);
        switch (TYPES[t]) {
            case SWAP -> {
                return "swap off=0x" + Long.toHexString(swapOffset(pte));
            }
            case PRESENT -> sb.append(isZero(pte) ? "zero" : "present");
            case MIGRATION -> sb.append("migration");
            case DEVICE_PRIVATE -> sb.append("device-private");
            case DEVICE_EXCLUSIVE -> sb.append("device-exclusive");
            default -> throw new AssertionError();
        }
        sb.append(" pfn=0x").append(Long.toHexString(pfn(pte)));
        if (isWrite(pte)) sb.append(" W");
        if (isDirty(pte)) sb.append(" D");
        if (isYoung(pte)) sb.append(" Y");
        if (isSpecial(pte)) sb.append(" S");
        if ((pte & PROTNONE) != 0) sb.append(" PROTNONE");
        if (isHuge(pte)) sb.append(" HUGE");
        return sb.toString();
    }

    private static long withPfn(long type, long pfn) {
        if (pfn < 0 || pfn > MAX_PFN) {
            throw new IllegalArgumentException("pfn/offset out of range: " + pfn);
        }
        return (pfn << PFN_SHIFT) | type;
    }
}
