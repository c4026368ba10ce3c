package hmm4j.bench;

import static hmm4j.bench.Machines.BASE;
import static hmm4j.bench.Machines.MILLION_PAGES;
import static hmm4j.bench.Machines.PAGE;

import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Bytes per present page-table entry: not a timing. Each operation builds a fresh
 * {@link PageTable} and fills 2^20 consecutive pages with present entries. {@link PageTable#set}
 * allocates nothing but the tables themselves, and a table is only released by
 * {@code freeTables}, so everything an operation allocates is retained by the table it
 * returns: {@code gc.alloc.rate.norm} of {@link #pageTable} (run with {@code -prof gc})
 * divided by 2^20 is the bytes per present entry, counted by the JVM. Target: at most 10.
 *
 * <p>Baseline {@link #flatArray}: the same entries in one flat {@code long[2^20]}, 8 bytes
 * per entry plus one array header: what no radix table can beat.
 * {@link PageTableFootprint} cross-checks the figure by counting the table's arrays.
 *
 * <p>The tables are built standalone, outside any mm, so there is no page-table lock to take.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED")
@State(Scope.Thread)
public class PageTableFootprintBench {

    /** A page table holding 2^20 present entries, one per page from {@code BASE}. */
    @Benchmark
    public PageTable pageTable() {
        return populate(MILLION_PAGES);
    }

    /** Baseline: the same 2^20 entries in one flat array. */
    @Benchmark
    public long[] flatArray() {
        long[] entries = new long[MILLION_PAGES];
        for (int i = 0; i < MILLION_PAGES; i++) {
            entries[i] = Pte.mkPresent(PhysMem.FIRST_PFN + i, true);
        }
        return entries;
    }

    /** A standalone page table with {@code n} present, writable entries on consecutive pages. */
    static PageTable populate(int n) {
        PageTable table = new PageTable();
        for (int i = 0; i < n; i++) {
            table.set(BASE + i * PAGE, Pte.mkPresent(PhysMem.FIRST_PFN + i, true));
        }
        return table;
    }
}
