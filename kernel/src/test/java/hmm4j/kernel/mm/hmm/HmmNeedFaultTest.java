package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.RW;
import static hmm4j.kernel.mm.hmm.HmmBed.VALID;
import static hmm4j.kernel.mm.hmm.HmmBed.WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.output;
import static hmm4j.kernel.mm.hmm.HmmBed.runClean;
import static hmm4j.kernel.mm.hmm.HmmBed.show;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_DMA_MAPPED;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_ERROR;
import static hmm4j.kernel.mm.hmm.HmmVmaWalk.HMM_NEED_FAULT;
import static hmm4j.kernel.mm.hmm.HmmVmaWalk.HMM_NEED_WRITE_FAULT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * kernel-spec §4.3: the effective request {@code (entry & pfn_flags_mask) | default_flags},
 * whether a page needs a fault and of which kind, the shortcut, and the OR over a block —
 * first as a table over {@code hmm_pte_need_fault}, then end to end with per-page flags.
 */
class HmmNeedFaultTest {

    private static final int NONE = 0;
    private static final int READ = HMM_NEED_FAULT;
    private static final int WRITE_FAULT = HMM_NEED_FAULT | HMM_NEED_WRITE_FAULT;

    /** A walk over a 4-page range with the given flags, built outside any run (set-up code is pin exempt). */
    private static HmmVmaWalk walk(long defaultFlags, long mask, long... inputs) {
        Kernel k = Kernel.controlled(1);
        MmStruct mm = MmStruct.mmAlloc(k, new RefHandle("unit"));
        long[] pfns = new long[4];
        System.arraycopy(inputs, 0, pfns, 0, inputs.length);
        HmmRange r = new HmmRange(new MmuIntervalNotifier("unit-sub"), BASE, BASE + 4 * PAGE, pfns, defaultFlags,
                mask, null);
        return new HmmVmaWalk(r, mm, "unit test");
    }

    @ParameterizedTest(name = "default={0} mask={1} entry={2} cpu={3} -> {4}")
    @CsvSource({
        // default flags alone
        "0,     0,      FW,   0,   0",
        "F,     0,      0,    0,   1",
        "F,     0,      0,    V,   0",
        "F,     0,      0,    VW,  0",
        "FW,    0,      0,    0,   3",
        "FW,    0,      0,    V,   3",
        "FW,    0,      0,    VW,  0",
        "W,     0,      0,    0,   0",
        // per-page flags through the mask
        "0,     FW,     F,    0,   1",
        "0,     FW,     W,    0,   0",
        "0,     FW,     FW,   V,   3",
        "0,     FW,     FW,   VW,  0",
        "0,     F,      FW,   V,   0",
        "F,     W,      W,    V,   3",
        "F,     W,      0,    V,   0",
        // the shortcut: no REQ_FAULT anywhere in default or mask
        "0,     W,      FW,   0,   0",
        // an output read back as input with a full mask asks for a write fault
        "0,     ALL,    VWX,  V,   3",
        "0,     ALL,    E,    0,   0",
    })
    void pteNeedFault_followsTheRequestRules(String def, String mask, String entry, String cpu, int expected) {
        HmmVmaWalk w = walk(bits(def), bits(mask));
        assertEquals(expected, w.pteNeedFault(bits(entry), bits(cpu)));
    }

    private static long bits(String s) {
        return switch (s) {
            case "0" -> 0;
            case "F" -> REQ_FAULT;
            case "W" -> REQ_WRITE;
            case "FW" -> REQ_FAULT | REQ_WRITE;
            case "V" -> VALID;
            case "VW" -> VALID | WRITE;
            case "VWX" -> VALID | WRITE | HMM_PFN_DMA_MAPPED | 0x1234;
            case "E" -> HMM_PFN_ERROR | HMM_PFN_DMA_MAPPED;
            case "ALL" -> -1L;
            default -> throw new IllegalArgumentException(s);
        };
    }

    @Test
    void rangeNeedFault_isTheOrOverTheBlock() {
        HmmVmaWalk w = walk(0, REQ_FAULT | REQ_WRITE, 0, REQ_FAULT, REQ_FAULT | REQ_WRITE, 0);
        assertEquals(NONE, w.rangeNeedFault(0, 1, 0));
        assertEquals(READ, w.rangeNeedFault(0, 2, 0));
        assertEquals(WRITE_FAULT, w.rangeNeedFault(0, 4, 0));
        assertEquals(WRITE_FAULT, w.rangeNeedFault(2, 2, VALID));
        assertEquals(NONE, w.rangeNeedFault(1, 1, VALID));
        assertEquals(NONE, walk(0, 0, REQ_FAULT, REQ_FAULT).rangeNeedFault(0, 4, 0), "mask 0: inputs are ignored");
    }

    @Test
    void defaultFlagsWithoutMask_ignoreThePerPageBits() {
        runClean(70, bed -> {
            bed.vma(BASE, 3, RW);
            for (int i = 0; i < 3; i++) {
                bed.set(BASE + i * PAGE, Pte.mkZero());
            }
            long zero = PhysMem.ZERO_PFN | VALID;
            HmmRange r = bed.range(BASE, 3, REQ_FAULT, 0, null, REQ_FAULT | REQ_WRITE, REQ_WRITE, 0);
            assertEquals(0, bed.fault(r));
            assertArrayEquals(new long[] {zero, zero, zero}, r.hmmPfns(), show(r.hmmPfns()));
            assertEquals(0, bed.invalidations(), "no write fault happened");
        });
    }

    @Test
    void perPageFlags_writeFaultOnlyWhereRequestedWithRequestFault() {
        runClean(71, bed -> {
            bed.vma(BASE, 4, RW);
            for (int i = 0; i < 4; i++) {
                bed.set(BASE + i * PAGE, Pte.mkZero());
            }
            long zero = PhysMem.ZERO_PFN | VALID;
            long[] inputs = {0, REQ_FAULT, REQ_WRITE, REQ_FAULT | REQ_WRITE};
            HmmRange r = bed.range(BASE, 4, 0, REQ_FAULT | REQ_WRITE, null, inputs);
            assertEquals(0, bed.faultUntilNotBusy(r, inputs));
            long pte = bed.pte(BASE + 3 * PAGE);
            assertTrue(Pte.isWrite(pte) && !Pte.isZero(pte), Pte.toString(pte));
            assertArrayEquals(new long[] {zero, zero, zero, output(pte)}, r.hmmPfns(), show(r.hmmPfns()));
            assertEquals(1, bed.invalidations(), "one COW, of page 3 only");
        });
    }

    @Test
    void defaultFaultWithPerPageWrite_writesOnlyTheMarkedPages() {
        runClean(72, bed -> {
            bed.vma(BASE, 2, RW);
            long p0 = bed.anonPage(BASE, false);
            long p1 = bed.anonPage(BASE + PAGE, false);
            HmmRange r = bed.range(BASE, 2, REQ_FAULT, REQ_WRITE, null, 0, REQ_WRITE | HMM_PFN_DMA_MAPPED);
            assertEquals(0, bed.fault(r));
            assertEquals(p0 | VALID, r.hmmPfns()[0]);
            assertEquals(HMM_PFN_DMA_MAPPED | p1 | VALID | WRITE, r.hmmPfns()[1], "made writable in place");
        });
    }

    @Test
    void shortcut_perPageFaultBitsAreIgnoredWhenNeitherDefaultNorMaskHasRequestFault() {
        runClean(73, bed -> {
            bed.vma(BASE, 2, RW);
            HmmRange r = bed.range(BASE, 2, 0, REQ_WRITE, null, REQ_FAULT | REQ_WRITE, REQ_FAULT);
            assertEquals(0, bed.fault(r));
            assertArrayEquals(new long[] {0, 0}, r.hmmPfns(), show(r.hmmPfns()));
            assertEquals(0, bed.pte(BASE));
        });
    }
}
