package hmm4j.kernel.mm.migrate;

import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;

/**
 * The {@code MIGRATE_PFN_*} encoding of the {@code src} and {@code dst} arrays of
 * {@link MigrateVma} and of the {@code migrate_device_*} functions (include/linux/migrate.h,
 * newest values): a pfn shifted left by {@link #MIGRATE_PFN_SHIFT}, with flag bits below.
 *
 * <table>
 *   <caption>flags</caption>
 *   <tr><th>flag</th><th>bit</th><th>meaning</th></tr>
 *   <tr><td>{@link #MIGRATE_PFN_VALID}</td><td>0</td><td>the pfn field names a page</td></tr>
 *   <tr><td>{@link #MIGRATE_PFN_MIGRATE}</td><td>1</td><td>src: collected, may be migrated;
 *       cleared by the core when the page cannot be</td></tr>
 *   <tr><td>{@link #MIGRATE_PFN_WRITE}</td><td>3</td><td>src: the entry was writable; dst:
 *       the driver maps the new page writable in its own tables</td></tr>
 *   <tr><td>{@link #MIGRATE_PFN_COMPOUND}</td><td>4</td><td>a PMD-sized folio (512 pages): in
 *       {@code src} set by the collection or the unmap step, the 511 entries after it 0; in
 *       {@code dst} set by the driver for a large destination folio</td></tr>
 *   <tr><td>{@link #MIGRATE_PFN_DEVICE_PRIVATE}</td><td>5</td><td>the pfn is a device-private
 *       one (never set: the model's device-private pages share the pfn space, so a pfn alone
 *       names the page)</td></tr>
 * </table>
 * Bit 2 was {@code MIGRATE_PFN_LOCKED} in kernels before 5.18; it is unused.
 */
public final class MigratePfn {
    /** The pfn field starts at this bit. */
    public static final int MIGRATE_PFN_SHIFT = 6;
    public static final long MIGRATE_PFN_VALID = 1L << 0;
    public static final long MIGRATE_PFN_MIGRATE = 1L << 1;
    public static final long MIGRATE_PFN_WRITE = 1L << 3;
    public static final long MIGRATE_PFN_COMPOUND = 1L << 4;
    public static final long MIGRATE_PFN_DEVICE_PRIVATE = 1L << 5;

    private MigratePfn() {
    }

    /** {@code migrate_pfn}: {@code pfn} with {@link #MIGRATE_PFN_VALID}. */
    public static long migratePfn(long pfn) {
        if (pfn <= 0 || pfn > (-1L >>> MIGRATE_PFN_SHIFT)) {
            throw new IllegalArgumentException("pfn out of range: " + pfn);
        }
        return (pfn << MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID;
    }

    /** The pfn field of an entry (meaningful only with {@link #MIGRATE_PFN_VALID}). */
    public static long pfn(long mpfn) {
        return mpfn >>> MIGRATE_PFN_SHIFT;
    }

    /** {@code migrate_pfn_to_page}: the page an entry names, or null without {@link #MIGRATE_PFN_VALID}. */
    public static Page migratePfnToPage(PhysMem phys, long mpfn) {
        if ((mpfn & MIGRATE_PFN_VALID) == 0) {
            return null;
        }
        Page page = phys.pfnToPage(pfn(mpfn));
        if (page == null) {
            throw new IllegalArgumentException("migrate pfn entry names no page: 0x" + Long.toHexString(mpfn));
        }
        return page;
    }

    /** A readable rendering, e.g. {@code pfn=0x2a VALID MIGRATE WRITE}. */
    public static String toString(long mpfn) {
        StringBuilder sb = new StringBuilder();
        if ((mpfn & MIGRATE_PFN_VALID) != 0) sb.append("pfn=0x").append(Long.toHexString(pfn(mpfn))).append(" VALID");
        if ((mpfn & MIGRATE_PFN_MIGRATE) != 0) sb.append(sb.isEmpty() ? "" : " ").append("MIGRATE");
        if ((mpfn & MIGRATE_PFN_WRITE) != 0) sb.append(sb.isEmpty() ? "" : " ").append("WRITE");
        if ((mpfn & MIGRATE_PFN_COMPOUND) != 0) sb.append(sb.isEmpty() ? "" : " ").append("COMPOUND");
        return sb.isEmpty() ? "0" : sb.toString();
    }
}
