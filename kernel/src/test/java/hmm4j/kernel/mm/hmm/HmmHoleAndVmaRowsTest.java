package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.EFAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.ERROR;
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
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kernel-spec §4.4, the rows above the entries: addresses without a VMA, VMAs the walk may
 * not use, absent page-table levels and none entries — each without and with a fault
 * request.
 */
class HmmHoleAndVmaRowsTest {

    private static final long ZERO = PhysMem.ZERO_PFN | VALID;

    @Test
    void hole_noFaultRequested_isErrorAndTheWalkGoesOn() {
        runClean(1, bed -> {
            bed.vma(BASE + 2 * PAGE, 2, RW);
            long pte = Pte.mkPresent(bed.anonPage(BASE + 2 * PAGE, true), true);
            HmmRange r = bed.range(BASE, 6, 0, 0, null);
            assertEquals(0, bed.fault(r));
            assertArrayEquals(new long[] {ERROR, ERROR, output(pte), 0, ERROR, ERROR}, r.hmmPfns(), show(r.hmmPfns()));
        });
    }

    @Test
    void hole_faultRequested_isEfaultAndLeavesTheHoleAndWhatFollowsUntouched() {
        runClean(2, bed -> {
            bed.vma(BASE + 2 * PAGE, 2, RW);
            long pte = Pte.mkPresent(bed.anonPage(BASE + 2 * PAGE, true), true);
            HmmRange r = bed.range(BASE, 6, 0, REQ_FAULT, null, 0, 0, 0, 0, REQ_FAULT, HMM_PFN_DMA_MAPPED);
            assertEquals(EFAULT, bed.fault(r));
            assertArrayEquals(new long[] {ERROR, ERROR, output(pte), 0, REQ_FAULT, HMM_PFN_DMA_MAPPED}, r.hmmPfns(),
                    show(r.hmmPfns()));
        });
    }

    @ParameterizedTest
    @ValueSource(longs = {RW | VmFlags.VM_IO, RW | VmFlags.VM_PFNMAP, VmFlags.VM_WRITE | VmFlags.VM_MAYWRITE,
        VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE})
    void unusableVma_noFaultRequested_isErrorForTheWholeVmaAndTheWalkGoesOn(long flags) {
        runClean(3, bed -> {
            bed.vma(BASE, 2, flags);
            bed.anonPage(BASE, true);
            bed.vma(BASE + 2 * PAGE, 2, RW);
            long pte = Pte.mkPresent(bed.anonPage(BASE + 2 * PAGE, false), false);
            HmmRange r = bed.range(BASE, 4, 0, 0, null, HMM_PFN_DMA_MAPPED);
            assertEquals(0, bed.fault(r));
            assertArrayEquals(new long[] {HMM_PFN_DMA_MAPPED | ERROR, ERROR, output(pte), 0}, r.hmmPfns(),
                    show(r.hmmPfns()));
        });
    }

    @ParameterizedTest
    @ValueSource(longs = {RW | VmFlags.VM_IO, RW | VmFlags.VM_PFNMAP, VmFlags.VM_WRITE | VmFlags.VM_MAYWRITE,
        VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE})
    void unusableVma_faultRequested_isEfaultWithoutTouchingTheArrayOrTheTables(long flags) {
        runClean(4, bed -> {
            bed.vma(BASE, 2, flags);
            HmmRange r = bed.range(BASE, 2, REQ_FAULT, 0, null, HMM_PFN_DMA_MAPPED, 0);
            assertEquals(EFAULT, bed.fault(r));
            assertArrayEquals(new long[] {HMM_PFN_DMA_MAPPED, 0}, r.hmmPfns(), show(r.hmmPfns()));
            assertEquals(0, bed.pte(BASE), "nothing was faulted in");
        });
    }

    @Test
    void unusableVma_requestOnlyOnAnotherVma_isNotAnError() {
        runClean(5, bed -> {
            bed.vma(BASE, 1, RW | VmFlags.VM_IO);
            bed.vma(BASE + PAGE, 1, RW);
            HmmRange r = bed.range(BASE, 2, 0, REQ_FAULT, null, 0, REQ_FAULT);
            assertEquals(0, bed.fault(r));
            assertEquals(ERROR, r.hmmPfns()[0]);
            assertEquals(ZERO, r.hmmPfns()[1], "the readable VMA's page was faulted to the zero page");
        });
    }

    @Test
    void absentTables_noFaultRequested_isZeroAndAllocatesNothing() {
        runClean(6, bed -> {
            bed.vma(BASE, 4, RW);
            HmmRange r = bed.range(BASE, 4, 0, 0, null, 0, HMM_PFN_DMA_MAPPED | VALID, 0, WRITE);
            assertEquals(0, bed.fault(r));
            assertArrayEquals(new long[] {0, HMM_PFN_DMA_MAPPED, 0, 0}, r.hmmPfns(), show(r.hmmPfns()));
            assertEquals(0, bed.mm.pgd("test check").pteTableCount(), "no page table was allocated");
        });
    }

    @Test
    void absentTables_readFaultRequested_mapsTheZeroPage() {
        runClean(7, bed -> {
            bed.vma(BASE, 4, RW);
            HmmRange r = bed.range(BASE, 4, REQ_FAULT, 0, null);
            assertEquals(0, bed.fault(r));
            assertArrayEquals(new long[] {ZERO, ZERO, ZERO, ZERO}, r.hmmPfns(), show(r.hmmPfns()));
            assertTrue(Pte.isZero(bed.pte(BASE + 3 * PAGE)));
            assertEquals(0, bed.invalidations(), "filling holes does not invalidate");
        });
    }

    @Test
    void absentTables_writeFaultRequested_allocatesWritablePages() {
        runClean(8, bed -> {
            bed.vma(BASE, 3, RW);
            HmmRange r = bed.range(BASE, 3, REQ_FAULT | REQ_WRITE, 0, null);
            assertEquals(0, bed.fault(r));
            for (int i = 0; i < 3; i++) {
                long pte = bed.pte(BASE + i * PAGE);
                assertTrue(Pte.isPresent(pte) && Pte.isWrite(pte) && !Pte.isZero(pte), Pte.toString(pte));
                assertEquals(output(pte), r.hmmPfns()[i]);
            }
            assertEquals(0, bed.invalidations());
        });
    }

    @Test
    void absentTables_acrossAPmdBoundary_faultOneChunkAtATime() {
        runClean(9, bed -> {
            long start = BASE + Pte.PMD_SIZE - 2 * PAGE;
            bed.vma(start, 4, RW);
            HmmRange r = bed.range(start, 4, 0, REQ_FAULT, null, REQ_FAULT, 0, 0, 0);
            assertEquals(0, bed.fault(r));
            assertArrayEquals(new long[] {ZERO, ZERO, 0, 0}, r.hmmPfns(), show(r.hmmPfns()));
            assertTrue(Pte.isZero(bed.pte(start + PAGE)), "the rest of the first chunk was faulted with it");
            assertEquals(0, bed.pte(start + 2 * PAGE), "the next chunk was not faulted");
            assertEquals(1, bed.mm.pgd("test check").pteTableCount());
        });
    }

    @Test
    void pteNone_noFaultRequested_isZeroWithTheStickyBitsKept() {
        runClean(10, bed -> {
            bed.vma(BASE, 4, RW);
            long pte = Pte.mkPresent(bed.anonPage(BASE, true), true);
            HmmRange r = bed.range(BASE, 4, 0, 0, null, 0, HMM_PFN_DMA_MAPPED, ERROR, VALID | WRITE | 0x1234);
            assertEquals(0, bed.fault(r));
            assertArrayEquals(new long[] {output(pte), HMM_PFN_DMA_MAPPED, 0, 0}, r.hmmPfns(), show(r.hmmPfns()));
        });
    }

    @Test
    void pteNone_faultRequested_faultsFromThatPageToTheEndOfTheChunk() {
        runClean(11, bed -> {
            bed.vma(BASE, 4, RW);
            long pte = Pte.mkPresent(bed.anonPage(BASE, true), true);
            HmmRange r = bed.range(BASE, 4, 0, REQ_FAULT | REQ_WRITE, null, 0, 0, REQ_FAULT, 0);
            assertEquals(0, bed.fault(r));
            assertEquals(output(pte), r.hmmPfns()[0]);
            assertEquals(0, r.hmmPfns()[1], "page 1 asked for nothing and lies before the fault");
            assertEquals(ZERO, r.hmmPfns()[2]);
            assertEquals(ZERO, r.hmmPfns()[3], "page 3 was faulted with page 2 and is reported as it now is");
            assertEquals(0, bed.pte(BASE + PAGE));
            assertNotEquals(0, bed.pte(BASE + 3 * PAGE));
        });
    }

    @Test
    void absentTable_writeFaultRequestedOnAReadOnlyVma_isEpermBeforeAnyFaultOfTheChunk() {
        runClean(12, bed -> {
            bed.vma(BASE, 2, HmmBed.RO);
            HmmRange r = bed.range(BASE, 2, 0, REQ_FAULT | REQ_WRITE, null, REQ_FAULT, REQ_FAULT | REQ_WRITE);
            assertEquals(HmmBed.EPERM, bed.fault(r), "the need of the whole hole is decided at once");
            assertArrayEquals(new long[] {REQ_FAULT, REQ_FAULT | REQ_WRITE}, r.hmmPfns(), show(r.hmmPfns()));
            assertEquals(0, bed.pte(BASE), "nothing was faulted");
        });
    }

    @Test
    void pteNone_writeFaultRequestedOnAReadOnlyVma_isEpermAfterTheEarlierPagesWereServed() {
        runClean(13, bed -> {
            bed.vma(BASE, 3, HmmBed.RO);
            bed.set(BASE + 2 * PAGE, Pte.mkZero());
            HmmRange r = bed.range(BASE, 3, 0, REQ_FAULT | REQ_WRITE, null, REQ_FAULT, REQ_FAULT | REQ_WRITE, 0);
            assertEquals(HmmBed.EPERM, bed.fault(r));
            assertEquals(ZERO, r.hmmPfns()[0], "the read request before it was served");
            assertEquals(REQ_FAULT | REQ_WRITE, r.hmmPfns()[1], "the refused page still holds its input");
            assertEquals(0, r.hmmPfns()[2], "and so does the page after it");
            assertTrue(Pte.isZero(bed.pte(BASE + PAGE)), "read-faulted together with page 0");
        });
    }
}
