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
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_DMA_MAPPED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Kthread;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kernel-spec §4.4, the rows of present entries: read-only (a normal page and the zero
 * page), writable, PROT_NONE and special — each without and with a fault request.
 */
class HmmPresentRowsTest {

    private static final long ZERO = PhysMem.ZERO_PFN | VALID;

    @ParameterizedTest
    @ValueSource(longs = {0, REQ_FAULT})
    void presentReadOnly_noneOrReadRequested_isPfnValidWithoutAFault(long request) {
        runClean(20, bed -> {
            bed.vma(BASE, 2, RW);
            long pfn = bed.sharedAnonPage(BASE);
            bed.set(BASE + PAGE, Pte.mkZero());
            HmmRange r = bed.range(BASE, 2, request, 0, null);
            assertEquals(0, bed.fault(r));
            assertEquals(pfn | VALID, r.hmmPfns()[0]);
            assertEquals(ZERO, r.hmmPfns()[1]);
            assertEquals(Pte.mkPresent(pfn, false), bed.pte(BASE), "the entry was not touched");
            assertEquals(0, bed.invalidations());
        });
    }

    @Test
    void presentReadOnly_writeRequestedOnAnExclusivePage_reusesItWithoutInvalidating() {
        runClean(21, bed -> {
            bed.vma(BASE, 1, RW);
            long pfn = bed.anonPage(BASE, false);
            HmmRange r = bed.range(BASE, 1, REQ_FAULT | REQ_WRITE, 0, null);
            assertEquals(0, bed.fault(r));
            assertEquals(pfn | VALID | WRITE, r.hmmPfns()[0]);
            assertEquals(0, bed.invalidations());
        });
    }

    @Test
    void presentReadOnly_writeRequestedOnASharedPage_copiesItAndTheCallCollides() {
        runClean(22, bed -> {
            bed.vma(BASE, 1, RW);
            long old = bed.sharedAnonPage(BASE);
            HmmRange r = bed.range(BASE, 1, 0, REQ_FAULT | REQ_WRITE, null, REQ_FAULT | REQ_WRITE | HMM_PFN_DMA_MAPPED);
            assertEquals(EBUSY, bed.fault(r), "the COW invalidated the subscription");
            assertEquals(REQ_FAULT | REQ_WRITE | HMM_PFN_DMA_MAPPED, r.hmmPfns()[0], "still the input");
            assertEquals(1, bed.invalidations());
            assertEquals(0, bed.faultUntilNotBusy(r, REQ_FAULT | REQ_WRITE | HMM_PFN_DMA_MAPPED));
            long pte = bed.pte(BASE);
            assertNotEquals(old, Pte.pfn(pte), "a copy");
            assertEquals(HMM_PFN_DMA_MAPPED | output(pte), r.hmmPfns()[0]);
            assertTrue(Pte.isWrite(pte));
        });
    }

    @Test
    void zeroPage_writeRequested_isCopiedAndTheCallCollides() {
        runClean(23, bed -> {
            bed.vma(BASE, 1, RW);
            bed.set(BASE, Pte.mkZero());
            HmmRange r = bed.range(BASE, 1, REQ_FAULT | REQ_WRITE, 0, null);
            assertEquals(EBUSY, bed.fault(r));
            assertEquals(0, bed.faultUntilNotBusy(r));
            long pte = bed.pte(BASE);
            assertTrue(!Pte.isZero(pte) && Pte.isWrite(pte), Pte.toString(pte));
            assertEquals(output(pte), r.hmmPfns()[0]);
        });
    }

    @ParameterizedTest
    @ValueSource(longs = {0, REQ_FAULT, REQ_FAULT | REQ_WRITE})
    void presentWritable_anyRequest_isPfnValidWriteWithoutAFault(long request) {
        runClean(24, bed -> {
            bed.vma(BASE, 1, RW);
            long pfn = bed.anonPage(BASE, true);
            HmmRange r = bed.range(BASE, 1, request, 0, null, HMM_PFN_DMA_MAPPED);
            assertEquals(0, bed.fault(r));
            assertEquals(HMM_PFN_DMA_MAPPED | pfn | VALID | WRITE, r.hmmPfns()[0]);
            assertEquals(0, HmmPfn.hmmPfnToMapOrder(r.hmmPfns()[0]), "base pages have order 0");
            assertEquals(0, bed.invalidations());
        });
    }

    @Test
    void protNone_noFaultRequested_isThePfnWithoutFlags() {
        runClean(25, bed -> {
            bed.vma(BASE, 1, RW);
            long pfn = bed.anonPage(BASE, true);
            bed.set(BASE, Pte.mkProtNone(Pte.mkPresent(pfn, true)));
            HmmRange r = bed.range(BASE, 1, 0, 0, null);
            assertEquals(0, bed.fault(r));
            assertEquals(pfn, r.hmmPfns()[0], "not VALID: the device must not use it");
        });
    }

    /**
     * A PROT_NONE (NUMA hinting) entry in an accessible VMA with a fault request is faulted:
     * the fault handler gives the entry its protection back ({@code do_numa_page}), writable
     * since the page is an exclusive anonymous one in a VM_WRITE VMA
     * ({@code can_change_pte_writable}), and the walk restarts and reports the same page VALID
     * and WRITE though only a read fault was requested.
     */
    @Test
    void protNone_faultRequested_isFaultedAndThenReportedValid() {
        runClean(26, bed -> {
            bed.vma(BASE, 1, RW);
            long pfn = bed.anonPage(BASE, true);
            bed.set(BASE, Pte.mkProtNone(Pte.mkPresent(pfn, false)));
            HmmRange r = bed.range(BASE, 1, REQ_FAULT, 0, null, HMM_PFN_DMA_MAPPED);
            assertEquals(0, bed.fault(r));
            assertEquals(HMM_PFN_DMA_MAPPED | VALID | WRITE | pfn, r.hmmPfns()[0]);
            assertTrue(!Pte.isProtNone(bed.pte(BASE)), "the hinting fault restored the protection");
            assertTrue(Pte.isWrite(bed.pte(BASE)), "and made the entry writable");
        });
    }

    @Test
    void special_noFaultRequested_isError() {
        runClean(27, bed -> {
            bed.vma(BASE, 2, RW);
            bed.set(BASE, Pte.mkSpecial(Pte.mkPresent(0x7_0000, true)));
            bed.set(BASE + PAGE, Pte.mkSpecial(Pte.mkPresent(0x7_0001, false)));
            HmmRange r = bed.range(BASE, 2, 0, 0, null, HMM_PFN_DMA_MAPPED, 0);
            assertEquals(0, bed.fault(r));
            assertEquals(HMM_PFN_DMA_MAPPED | ERROR, r.hmmPfns()[0]);
            assertEquals(ERROR, r.hmmPfns()[1]);
        });
    }

    @ParameterizedTest
    @ValueSource(longs = {REQ_FAULT, REQ_FAULT | REQ_WRITE})
    void special_faultRequested_isEfaultEvenForARead(long request) {
        runClean(28, bed -> {
            bed.vma(BASE, 2, RW);
            long pfn = bed.anonPage(BASE, true);
            bed.set(BASE + PAGE, Pte.mkSpecial(Pte.mkPresent(0x7_0000, true)));
            HmmRange r = bed.range(BASE, 2, request, 0, null, 0, HMM_PFN_DMA_MAPPED);
            assertEquals(EFAULT, bed.fault(r));
            assertEquals(pfn | VALID | WRITE, r.hmmPfns()[0]);
            assertEquals(HMM_PFN_DMA_MAPPED, r.hmmPfns()[1], "the special page keeps its input");
        });
    }

    @Test
    void special_readRequestedOnAReadOnlySpecialEntry_isEfault() {
        runClean(29, bed -> {
            bed.vma(BASE, 1, RW);
            bed.set(BASE, Pte.mkSpecial(Pte.mkPresent(0x7_0000, false)));
            HmmRange r = bed.range(BASE, 1, REQ_FAULT, 0, null);
            assertEquals(EFAULT, bed.fault(r));
            assertEquals(0, r.hmmPfns()[0]);
        });
    }
}
