package hmm4j.bench;

import static hmm4j.bench.Machines.BASE;
import static hmm4j.bench.Machines.MILLION_PAGES;
import static hmm4j.bench.Machines.PAGE;
import static hmm4j.bench.Machines.check;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code hmm_range_fault} over 2^20 present pages against a raw walk of the same radix
 * table. Target: within 3x of the raw walk, and no allocation per page ({@code -prof gc}:
 * {@code gc.alloc.rate.norm} of {@link #hmmRangeFault} divided by 2^20).
 *
 * <p>Set-up (once per fork): one private anonymous read-write VMA of 4 GiB at a PUD-aligned
 * address, an interval subscription over it, and every page faulted in for write by one
 * {@code hmm_range_fault} with {@code REQ_FAULT | REQ_WRITE} (a real fault per page through
 * {@code handle_mm_fault}), so the table holds 2^20 present, writable entries in 2048 full PTE
 * tables. Both operations are then run once and their outputs compared.
 *
 * <p>Measured:
 * <ul>
 *   <li>{@link #hmmRangeFault}: the driver's call, {@code default_flags = REQ_FAULT}, with the
 *       mmap lock taken for read around it as its contract asks; every page is present, so no
 *       fault happens and the walk only converts entries. The model takes the page-table
 *       lock once per PMD-sized chunk (512 pages) and looks the VMA up once.</li>
 *   <li>{@link #rawRadixWalk} (baseline): the same table's leaf {@code long[]} arrays, one
 *       {@link PageTable#pteTableOrNull} per 512 entries, converted to the same
 *       {@code pfn | VALID | WRITE} outputs in a {@code long[]}, under the page-table lock
 *       taken once for the whole walk.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED")
@State(Scope.Thread)
public class HmmRangeFaultBench {
    private static final long LENGTH = (long) MILLION_PAGES * PAGE;

    private MmStruct mm;
    private PageTable pageTable;
    private SpinLock pageTableLock;
    private HmmRange range;
    private long[] rawOutputs;

    /** The driver's invalidate callback: records the new sequence (none happens while measuring). */
    private static final MmuIntervalNotifierOps SET_SEQ = (MmuIntervalNotifier sub, MmuNotifierRange r, long seq) -> {
        sub.mmuIntervalSetSeq(seq);
        return true;
    };

    /** Maps and faults in the 2^20 pages, then checks that both operations agree. */
    @Setup(Level.Trial)
    public void setUp() {
        Kernel kernel = Machines.nativeKernel();
        mm = Machines.newMm(kernel);
        long start = Mmap.mmap(mm, BASE, LENGTH, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0);
        check(start == BASE, "mmap returned " + start);
        MmuIntervalNotifier mirror = new MmuIntervalNotifier("bench-mirror");
        check(mirror.mmuIntervalNotifierInsert(mm, BASE, LENGTH, SET_SEQ) == 0, "interval notifier insert failed");

        HmmRange populate = new HmmRange(mirror, BASE, BASE + LENGTH, new long[MILLION_PAGES],
                HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE, 0, null);
        check(callHmmRangeFault(populate) == 0, "populating hmm_range_fault failed");

        range = new HmmRange(mirror, BASE, BASE + LENGTH, new long[MILLION_PAGES], HmmPfn.HMM_PFN_REQ_FAULT, 0, null);
        range.setNotifierSeq(mirror.mmuIntervalReadBegin());
        rawOutputs = new long[MILLION_PAGES];
        pageTable = mm.pgd("bench set-up");
        pageTableLock = mm.pageTableLock();
        check(pageTable.entryCount() == MILLION_PAGES, "expected 2^20 entries, found " + pageTable.entryCount());

        check(hmmRangeFault() == 0, "hmm_range_fault over present pages failed");
        rawRadixWalk();
        check(Arrays.equals(range.hmmPfns(), rawOutputs), "hmm_range_fault and the raw walk disagree");
        check((rawOutputs[0] & HmmPfn.HMM_PFN_WRITE) != 0, "pages are not writable");
        Machines.settleHeap();
    }

    /** One attempt of the driver loop: read_begin, then the call under the mmap read lock. */
    private int callHmmRangeFault(HmmRange r) {
        r.setNotifierSeq(r.notifier().mmuIntervalReadBegin());
        mm.mmapReadLock();
        try {
            return Hmm.hmmRangeFault(r);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /**
     * {@code hmm_range_fault} over the 2^20 present pages, under the mmap read lock. The
     * sequence was read at set-up and nothing invalidates, so the call never collides.
     */
    @Benchmark
    public int hmmRangeFault() {
        mm.mmapReadLock();
        try {
            return Hmm.hmmRangeFault(range);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** Baseline: the same table's leaf arrays converted to the same outputs, one lookup per 512 entries. */
    @Benchmark
    public long[] rawRadixWalk() {
        long[] out = rawOutputs;
        pageTableLock.lock();
        try {
            for (long addr = BASE; addr < BASE + LENGTH; addr += Pte.PMD_SIZE) {
                int base = (int) ((addr - BASE) >>> Pte.PAGE_SHIFT);
                long[] table = pageTable.pteTableOrNull(addr);
                if (table == null) {
                    Arrays.fill(out, base, base + Pte.PTRS_PER_TABLE, 0L);
                    continue;
                }
                for (int i = 0; i < Pte.PTRS_PER_TABLE; i++) {
                    long pte = table[i];
                    out[base + i] = Pte.isPresent(pte) && !Pte.isProtNone(pte)
                            ? Pte.pfn(pte) | HmmPfn.HMM_PFN_VALID | (Pte.isWrite(pte) ? HmmPfn.HMM_PFN_WRITE : 0)
                            : 0;
                }
            }
        } finally {
            pageTableLock.unlock();
        }
        return out;
    }
}
