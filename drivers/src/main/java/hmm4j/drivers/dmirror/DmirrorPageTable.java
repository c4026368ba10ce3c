package hmm4j.drivers.dmirror;

import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The simulated device page table of one mirror ({@code dmirror->pt}, an xarray keyed by
 * virtual page number): per page, the page the device maps there and a two-bit tag, as
 * {@code xa_tag_pointer} keeps it.
 *
 * <p>Overview. An entry is a {@code long}: the page's pfn shifted left by two, the tag in the
 * low bits ({@link #DPT_XA_TAG_RO}, {@link #DPT_XA_TAG_ATOMIC}, {@link #DPT_XA_TAG_WRITE}; the
 * tags are values, not bits, so WRITE (3) is not "ATOMIC plus something"). 0 means no entry
 * (pfn 0 never names a page). The table holds no page reference: it stays correct only
 * because every invalidation of the CPU mapping erases the entries, which is what the
 * validator checks.
 *
 * <p>Locking. Every store and erase happens under the mirror's mutex in the correct protocol
 * and is a scheduling point ({@code xa_store}, {@code xa_erase}), so a protocol mutant that
 * stores without the mutex can be interleaved with an invalidation. Loads are not scheduling
 * points. The map is a concurrent skip list, so the validator may read it from any context
 * ({@link #forEachPeek}) without adding a scheduling point.
 */
final class DmirrorPageTable {
    /** Tag 0: the device maps the page read-only. */
    static final int DPT_XA_TAG_RO = 0;
    /** Tag 1: installed by EXCLUSIVE for device atomics. */
    static final int DPT_XA_TAG_ATOMIC = 1;
    /** Tag 3: the device maps the page writable. */
    static final int DPT_XA_TAG_WRITE = 3;

    /** Visits one entry. */
    @FunctionalInterface
    interface EntryVisitor {
        void visit(long vpn, long entry);
    }

    private static final Op.Kind XA_STORE = new Op.Kind("xa_store", Op.Access.WRITE);
    private static final Op.Kind XA_ERASE = new Op.Kind("xa_erase", Op.Access.WRITE);

    private final Kernel kernel;
    private final String name;
    private final Op storeOp;
    private final Op eraseOp;
    private final ConcurrentSkipListMap<Long, Long> entries = new ConcurrentSkipListMap<>();

    DmirrorPageTable(Kernel kernel, String name) {
        this.kernel = kernel;
        this.name = name;
        Op.Target table = kernel.newTarget(name);
        this.storeOp = Op.of(XA_STORE, table);
        this.eraseOp = Op.of(XA_ERASE, table);
    }

    /** {@code xa_tag_pointer(page, tag)}. */
    static long mkEntry(Page page, int tag) {
        return (page.pfn() << 2) | tag;
    }

    /** {@code xa_pointer_tag}. */
    static int tag(long entry) {
        return (int) (entry & 3);
    }

    /** The pfn of {@code xa_untag_pointer}. */
    static long pfn(long entry) {
        return entry >>> 2;
    }

    /** The page an entry names, or null for no entry. */
    static Page page(PhysMem phys, long entry) {
        return entry == 0 ? null : phys.pfnToPage(pfn(entry));
    }

    static String tagName(int tag) {
        return switch (tag) {
            case DPT_XA_TAG_RO -> "RO";
            case DPT_XA_TAG_ATOMIC -> "ATOMIC";
            case DPT_XA_TAG_WRITE -> "WRITE";
            default -> "tag" + tag;
        };
    }

    /** {@code xa_load}: the entry for {@code vpn}, or 0. Not a scheduling point. */
    long load(long vpn) {
        Long e = entries.get(vpn);
        return e == null ? 0 : e;
    }

    /** {@code xa_store}: a scheduling point, then the entry for {@code vpn} becomes {@code page} with {@code tag}. */
    void store(long vpn, Page page, int tag) {
        kernel.point(storeOp);
        entries.put(vpn, mkEntry(page, tag));
    }

    /** {@code xa_erase} of one entry: a scheduling point if there is one to erase. */
    void erase(long vpn) {
        if (entries.containsKey(vpn)) {
            kernel.point(eraseOp);
            entries.remove(vpn);
        }
    }

    /** Erases every entry with {@code first <= vpn <= last} (both inclusive); one scheduling point per entry. */
    void eraseRange(long first, long last) {
        if (Long.compareUnsigned(first, last) > 0) {
            return;
        }
        for (Long vpn : entries.subMap(first, true, last, true).keySet()) {
            erase(vpn);
        }
    }

    /** True if an entry lies in [first, last] (inclusive). Not a scheduling point. */
    boolean anyIn(long first, long last) {
        return Long.compareUnsigned(first, last) <= 0 && !entries.subMap(first, true, last, true).isEmpty();
    }

    /** Visits the entries in [first, last] in order; not a scheduling point. */
    void forEachPeek(long first, long last, EntryVisitor visitor) {
        if (Long.compareUnsigned(first, last) > 0) {
            return;
        }
        for (Map.Entry<Long, Long> e : entries.subMap(first, true, last, true).entrySet()) {
            visitor.visit(e.getKey(), e.getValue());
        }
    }

    /** Visits every entry in order; not a scheduling point. */
    void forEachPeek(EntryVisitor visitor) {
        for (Map.Entry<Long, Long> e : entries.entrySet()) {
            visitor.visit(e.getKey(), e.getValue());
        }
    }

    /** {@code xa_destroy}: drops every entry at once (release). */
    void destroy() {
        entries.clear();
    }

    /** The number of entries. */
    int size() {
        return entries.size();
    }

    @Override
    public String toString() {
        return name + " (" + entries.size() + " entries)";
    }
}
