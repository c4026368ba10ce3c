package hmm4j.bench;

import static hmm4j.bench.Machines.BASE;
import static hmm4j.bench.Machines.MILLION_PAGES;
import static hmm4j.bench.Machines.PAGE;
import static hmm4j.bench.Machines.check;

import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
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
 * {@code hmm_range_fault} over 2^20 pages mapped as 2048 anonymous 2 MiB THPs (PMD leaves),
 * against a raw walk of the same table, and — in the table of {@code hmm4j bench} — against
 * {@link HmmRangeFaultBench#hmmRangeFault} over the same number of base pages. Target: at
 * least as fast per page as over base pages (issue 12).
 *
 * <p>Set-up (once per fork): the 4 GiB VMA of {@link HmmRangeFaultBench} with
 * {@code MADV_HUGEPAGE}, populated by one {@code hmm_range_fault} with
 * {@code REQ_FAULT | REQ_WRITE}, whose write faults each map a new THP
 * ({@code do_huge_pmd_anonymous_page}); the set-up checks that the table holds 2048 PMD
 * leaves and that both operations give the same outputs (pfn, VALID, WRITE, map order 9).
 *
 * <p>Measured:
 * <ul>
 *   <li>{@link #hmmRangeFaultThp}: the driver's call under the mmap read lock,
 *       {@code REQ_FAULT}; every PMD is a writable leaf, so the walk takes
 *       {@code hmm_vma_handle_pmd} once per 512 pages and writes {@code pfn + i} with the
 *       leaf's flags.</li>
 *   <li>{@link #rawPmdWalk} (baseline): per 2 MiB, the leaf's one PMD value (the model's
 *       table entry 0 of the leaf, see docs/kernel-mapping.md "Representation") converted to
 *       the same 512 outputs, under the page-table lock taken once.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED")
@State(Scope.Thread)
public class HugeRangeFaultBench {
    private static final long LENGTH = (long) MILLION_PAGES * PAGE;
    /** {@code hmm_pfn_flags_order(9)}. */
    private static final long ORDER_9 = HmmPfn.hmmPfnFlagsOrder(HugeMemory.HPAGE_PMD_ORDER);

    private MmStruct mm;
    private PageTable pageTable;
    private SpinLock pageTableLock;
    private HmmRange range;
    private long[] rawOutputs;

    private static final MmuIntervalNotifierOps SET_SEQ = (MmuIntervalNotifier sub, MmuNotifierRange r, long seq) -> {
        sub.mmuIntervalSetSeq(seq);
        return true;
    };

    /** Maps the 4 GiB as THPs, then checks that both operations agree. */
    @Setup(Level.Trial)
    public void setUp() {
        Kernel kernel = Machines.nativeKernel();
        mm = Machines.newMm(kernel);
        long start = Mmap.mmap(mm, BASE, LENGTH, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0);
        check(start == BASE, "mmap returned " + start);
        check(Madvise.madvise(mm, BASE, LENGTH, Madvise.MADV_HUGEPAGE) == 0, "MADV_HUGEPAGE failed");
        MmuIntervalNotifier mirror = new MmuIntervalNotifier("bench-mirror");
        check(mirror.mmuIntervalNotifierInsert(mm, BASE, LENGTH, SET_SEQ) == 0, "interval notifier insert failed");

        HmmRange populate = new HmmRange(mirror, BASE, BASE + LENGTH, new long[MILLION_PAGES],
                HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE, 0, null);
        populate.setNotifierSeq(mirror.mmuIntervalReadBegin());
        mm.mmapReadLock();
        try {
            check(Hmm.hmmRangeFault(populate) == 0, "populating hmm_range_fault failed");
        } finally {
            mm.mmapReadUnlock();
        }

        range = new HmmRange(mirror, BASE, BASE + LENGTH, new long[MILLION_PAGES], HmmPfn.HMM_PFN_REQ_FAULT, 0, null);
        range.setNotifierSeq(mirror.mmuIntervalReadBegin());
        rawOutputs = new long[MILLION_PAGES];
        pageTable = mm.pgd("bench set-up");
        pageTableLock = mm.pageTableLock();
        check(pageTable.pmdLeafCount() == MILLION_PAGES / HugeMemory.HPAGE_PMD_NR,
                "expected 2048 PMD leaves, found " + pageTable.pmdLeafCount());

        check(hmmRangeFaultThp() == 0, "hmm_range_fault over the THPs failed");
        rawPmdWalk();
        check(Arrays.equals(range.hmmPfns(), rawOutputs), "hmm_range_fault and the raw walk disagree");
        check(HmmPfn.hmmPfnToMapOrder(rawOutputs[0]) == HugeMemory.HPAGE_PMD_ORDER, "not reported at order 9");
        check((rawOutputs[0] & HmmPfn.HMM_PFN_WRITE) != 0, "pages are not writable");
        Machines.settleHeap();
    }

    /** {@code hmm_range_fault} over the 2048 present THPs, under the mmap read lock. */
    @Benchmark
    public int hmmRangeFaultThp() {
        mm.mmapReadLock();
        try {
            return Hmm.hmmRangeFault(range);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** Baseline: one PMD value per 2 MiB converted to its 512 outputs. */
    @Benchmark
    public long[] rawPmdWalk() {
        long[] out = rawOutputs;
        pageTableLock.lock();
        try {
            for (long addr = BASE; addr < BASE + LENGTH; addr += Pte.PMD_SIZE) {
                int base = (int) ((addr - BASE) >>> Pte.PAGE_SHIFT);
                long[] table = pageTable.pteTableOrNull(addr);
                long pmd = table == null ? 0 : table[0];
                if (!Pte.isHuge(pmd) || !Pte.isPresent(pmd) || Pte.isProtNone(pmd)) {
                    Arrays.fill(out, base, base + Pte.PTRS_PER_TABLE, 0L);
                    continue;
                }
                long flags = HmmPfn.HMM_PFN_VALID | (Pte.isWrite(pmd) ? HmmPfn.HMM_PFN_WRITE : 0) | ORDER_9;
                long pfn = Pte.pfn(pmd);
                for (int i = 0; i < Pte.PTRS_PER_TABLE; i++) {
                    out[base + i] = (pfn + i) | flags;
                }
            }
        } finally {
            pageTableLock.unlock();
        }
        return out;
    }
}
