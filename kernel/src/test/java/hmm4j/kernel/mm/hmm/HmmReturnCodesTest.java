package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.EBUSY;
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
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_INOUT_FLAGS;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_P2PDMA;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_P2PDMA_BUS;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

/**
 * kernel-spec §4.5–§4.6: what each return code means for the array, the restart property,
 * and the sticky bits across every kind of output.
 */
class HmmReturnCodesTest {

    private static final long STICKY = HMM_PFN_INOUT_FLAGS;

    @Test
    void collisionBeforeTheCall_isEbusyWithTheArrayUntouched() {
        runClean(80, bed -> {
            bed.vma(BASE, 2, RW);
            bed.anonPage(BASE, true);
            HmmRange r = bed.range(BASE, 3, REQ_FAULT, 0, null, HMM_PFN_DMA_MAPPED, 0, HMM_PFN_P2PDMA);
            r.setNotifierSeq(bed.sub.mmuIntervalReadBegin());
            assertEquals(0, Mprotect.mprotect(bed.mm, BASE, PAGE, Mmap.PROT_READ));
            bed.mm.mmapReadLock();
            int ret = Hmm.hmmRangeFault(r);
            bed.mm.mmapReadUnlock();
            assertEquals(EBUSY, ret);
            assertArrayEquals(new long[] {HMM_PFN_DMA_MAPPED, 0, HMM_PFN_P2PDMA}, r.hmmPfns(), show(r.hmmPfns()));
        });
    }

    /**
     * The restart property (§4.5): a write request meets the zero page in the middle; the
     * COW invalidates, the walk stops there, and the check before the restart answers
     * {@code -EBUSY} with the entries below that page converted and the others untouched.
     */
    @Test
    void cowInTheMiddle_isEbusyWithOutputsBelowTheFaultAndInputsFromIt() {
        runClean(81, bed -> {
            bed.vma(BASE, 4, RW);
            long first = Pte.mkPresent(bed.anonPage(BASE, true), true);
            bed.set(BASE + PAGE, Pte.mkZero());
            long[] inputs = {HMM_PFN_DMA_MAPPED, HMM_PFN_P2PDMA | REQ_FAULT, HMM_PFN_P2PDMA_BUS, REQ_WRITE};
            HmmRange r = bed.range(BASE, 4, REQ_FAULT | REQ_WRITE, 0, null, inputs);
            assertEquals(EBUSY, bed.fault(r));
            assertEquals(HMM_PFN_DMA_MAPPED | output(first), r.hmmPfns()[0]);
            for (int i = 1; i < 4; i++) {
                assertEquals(inputs[i], r.hmmPfns()[i], "entry " + i + " still holds its input");
            }
            assertEquals(1, bed.invalidations(), "only the COW invalidated");
            for (int i = 1; i < 4; i++) {
                long pte = bed.pte(BASE + i * PAGE);
                assertTrue(Pte.isWrite(pte), "page " + i + " was write-faulted with the chunk: " + Pte.toString(pte));
            }
            assertEquals(0, bed.faultUntilNotBusy(r, inputs), "the driver's next attempt succeeds");
            for (int i = 0; i < 4; i++) {
                long pte = bed.pte(BASE + i * PAGE);
                assertEquals((inputs[i] & STICKY) | output(pte), r.hmmPfns()[i], "entry " + i);
            }
        });
    }

    @Test
    void failedFault_isEfaultAndTheFaultedPagesStillHoldTheirInputs() {
        Kernel k = checkedKernel(82);
        k.component(PhysMem.class, () -> new PhysMem(k, 1));
        assertClean(HmmBed.run(k, bed -> {
            bed.vma(BASE, 3, RW);
            long[] inputs = {HMM_PFN_DMA_MAPPED, 0, 0};
            HmmRange r = bed.range(BASE, 3, REQ_FAULT | REQ_WRITE, 0, null, inputs);
            assertEquals(EFAULT, bed.fault(r), "the second page finds no memory: VM_FAULT_OOM");
            assertArrayEquals(inputs, r.hmmPfns(), show(r.hmmPfns()));
            assertTrue(Pte.isPresent(bed.pte(BASE)), "the first page was faulted in before the failure");
            assertEquals(0, bed.pte(BASE + PAGE));
        }));
    }

    @Test
    void writeRequestOnAReadOnlyVma_isEperm() {
        runClean(83, bed -> {
            bed.vma(BASE, 1, RW);
            bed.vma(BASE + PAGE, 1, HmmBed.RO);
            long pfn = bed.anonPage(BASE, true);
            long ro = bed.anonPage(BASE + PAGE, false);
            HmmRange r = bed.range(BASE, 2, REQ_FAULT | REQ_WRITE, 0, null);
            assertEquals(HmmBed.EPERM, bed.fault(r));
            assertEquals(pfn | VALID | WRITE, r.hmmPfns()[0]);
            assertEquals(0, r.hmmPfns()[1]);
            assertEquals(Pte.mkPresent(ro, false), bed.pte(BASE + PAGE), "not faulted");
            HmmRange read = bed.range(BASE, 2, REQ_FAULT, 0, null);
            assertEquals(0, bed.fault(read), "a read of the same range is fine");
            assertEquals(ro | VALID, read.hmmPfns()[1]);
        });
    }

    @Test
    void stickyBits_surviveEveryKindOfOutput() {
        runClean(84, bed -> {
            Object gpu = new Object();
            bed.vma(BASE, 6, RW);
            long present = Pte.mkPresent(bed.anonPage(BASE, true), true);
            bed.set(BASE + 2 * PAGE, Pte.mkSpecial(Pte.mkPresent(0x7_0000, true)));
            long device = bed.devicePrivate(BASE + 3 * PAGE, gpu, false).pfn();
            bed.swapEntry(BASE + 4 * PAGE, (byte) 1);
            long[] inputs = new long[8];
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = STICKY | (i % 2 == 0 ? VALID : WRITE) | 0x42;
            }
            HmmRange r = bed.range(BASE, 8, 0, 0, gpu, inputs);
            assertEquals(0, bed.fault(r));
            long[] expected = {output(present), 0, ERROR, device | VALID, 0, 0, ERROR, ERROR};
            for (int i = 0; i < expected.length; i++) {
                expected[i] |= STICKY;
            }
            assertArrayEquals(expected, r.hmmPfns(), show(r.hmmPfns()));
        });
    }
}
