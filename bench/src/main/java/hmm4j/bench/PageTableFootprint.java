package hmm4j.bench;

import static hmm4j.bench.Machines.MILLION_PAGES;

import com.sun.management.HotSpotDiagnosticMXBean;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.Pte;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Locale;

/**
 * Bytes per present page-table entry, counted rather than timed: builds a {@link PageTable}
 * with 2^20 present entries (as {@link PageTableFootprintBench} does) and prints
 * <ol>
 *   <li>the arrays it holds, from its own counters ({@link PageTable#tableCount},
 *       {@link PageTable#pteTableCount}), times their exact sizes on this JVM (array header
 *       plus 512 slots of 8 bytes for a PTE table, of 4 or 8 bytes for an upper table,
 *       depending on compressed oops, rounded up to 8);</li>
 *   <li>the model's own estimate, {@link PageTable#bytesUsed};</li>
 *   <li>the heap it retains, measured as the used heap after a full GC with and without it
 *       (a cross-check: G1 rounds to its regions, so this is approximate).</li>
 * </ol>
 * Run with {@code java -cp bench/target/hmm4j-benchmarks.jar hmm4j.bench.PageTableFootprint}.
 */
public final class PageTableFootprint {

    private PageTableFootprint() {
    }

    /** Prints the three figures for a table of 2^20 present entries. */
    public static void main(String[] args) {
        report(System.out, MILLION_PAGES);
    }

    /** Builds a table of {@code entries} present entries and prints its footprint to {@code out}. */
    static void report(PrintStream out, int entries) {
        long heapBefore = usedHeapAfterGc();
        PageTable table = PageTableFootprintBench.populate(entries);
        long heapAfter = usedHeapAfterGc();

        boolean compressedOops = Boolean.parseBoolean(vmOption("UseCompressedOops", "true"));
        boolean compactHeaders = Boolean.parseBoolean(vmOption("UseCompactObjectHeaders", "false"));
        long header = compactHeaders ? 12 : 16;
        long reference = compressedOops ? 4 : 8;
        long leafBytes = align(header + Pte.PTRS_PER_TABLE * 8L);
        long upperBytes = align(header + Pte.PTRS_PER_TABLE * reference);
        long leaves = table.pteTableCount();
        long uppers = table.tableCount() - leaves;
        long counted = leaves * leafBytes + uppers * upperBytes;

        out.printf(Locale.ROOT, "present entries:          %,d%n", table.entryCount());
        out.printf(Locale.ROOT, "PTE tables (long[512]):   %,d x %,d B%n", leaves, leafBytes);
        out.printf(Locale.ROOT, "upper tables (pgd..pmd):  %,d x %,d B (compressed oops: %s)%n",
                uppers, upperBytes, compressedOops);
        out.printf(Locale.ROOT, "counted:                  %,d B = %.3f B per present entry%n",
                counted, (double) counted / entries);
        out.printf(Locale.ROOT, "PageTable.bytesUsed():    %,d B = %.3f B per present entry%n",
                table.bytesUsed(), (double) table.bytesUsed() / entries);
        out.printf(Locale.ROOT, "heap retained (after GC): %,d B = %.3f B per present entry (approximate)%n",
                heapAfter - heapBefore, (double) (heapAfter - heapBefore) / entries);
        out.printf(Locale.ROOT, "target:                   <= 10 B per present entry%n");
        if (table.entryCount() != entries) {
            throw new IllegalStateException("the table holds " + table.entryCount() + " entries");
        }
    }

    private static long align(long bytes) {
        return (bytes + 7) & ~7L;
    }

    private static String vmOption(String name, String fallback) {
        try {
            return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption(name).getValue();
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return fallback;
        }
    }

    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
