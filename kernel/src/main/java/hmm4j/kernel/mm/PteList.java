package hmm4j.kernel.mm;

import java.util.Arrays;

/**
 * The non-none entries of a page-table range, collected by one walk as (address, entry)
 * pairs, for callers that change the entries afterwards: {@link PageTable#forEach} forbids
 * changing the table it walks, and mprotect, fork and reclaim all rewrite what they visit.
 *
 * <p>Locking: {@link #collect} runs under the page-table lock of the table's mm; whether the
 * collected values are still current once that lock is dropped is the caller's concern.
 * The list itself is confined to the calling task.
 */
final class PteList {
    private long[] addrs = new long[16];
    private long[] ptes = new long[16];
    private int size;

    private PteList() {
    }

    /** The non-none entries of [{@code start}, {@code end}) of {@code table}, in address order. */
    static PteList collect(PageTable table, long start, long end) {
        PteList list = new PteList();
        table.forEach(start, end, (addr, pte) -> {
            list.add(addr, pte);
            return true;
        });
        return list;
    }

    private void add(long addr, long pte) {
        if (size == addrs.length) {
            addrs = Arrays.copyOf(addrs, size * 2);
            ptes = Arrays.copyOf(ptes, size * 2);
        }
        addrs[size] = addr;
        ptes[size] = pte;
        size++;
    }

    int size() {
        return size;
    }

    /** The address of the {@code i}-th entry. */
    long addr(int i) {
        return addrs[i];
    }

    /** The {@code i}-th entry as it was when collected. */
    long pte(int i) {
        return ptes[i];
    }
}
