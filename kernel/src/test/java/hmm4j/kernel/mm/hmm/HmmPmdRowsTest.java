package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.RW;
import static hmm4j.kernel.mm.hmm.HmmBed.VALID;
import static hmm4j.kernel.mm.hmm.HmmBed.WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.runClean;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.NumaBalancing;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm_range_fault} over PMD leaves ({@code hmm_vma_handle_pmd}): every page of the
 * leaf in the range gets {@code pfn + index} with the leaf's bits and map order 9; a fault
 * request on a none PMD of a THP VMA maps one THP; a write request on the huge zero page
 * splits it and copies every page; a range that starts inside a leaf starts at the right pfn;
 * a NUMA hinting (prot-none) leaf gives no cpu flags to a snapshot and is faulted back whole
 * ({@code do_huge_pmd_numa_page}) for a fault request.
 */
class HmmPmdRowsTest {
    private static final int NR = HugeMemory.HPAGE_PMD_NR;
    private static final long ORDER9 = HmmPfn.hmmPfnFlagsOrder(HugeMemory.HPAGE_PMD_ORDER);
    private static final long THP_RW = RW | VmFlags.VM_HUGEPAGE;

    @Test
    void aWriteRequestOnANonePmd_faultsOneThp_andEveryOutputHasOrder9AndConsecutivePfns() {
        runClean(90, bed -> {
            bed.vma(BASE, 2 * NR, THP_RW);
            HmmRange r = bed.range(BASE, NR, REQ_FAULT | REQ_WRITE, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(r));
            long head = bed.pte(BASE);
            assertTrue(Pte.isHuge(head));
            for (int i = 0; i < NR; i++) {
                assertEquals((Pte.pfn(head) + i) | VALID | WRITE | ORDER9, r.hmmPfns()[i], "page " + i);
                assertEquals(HugeMemory.HPAGE_PMD_ORDER, HmmPfn.hmmPfnToMapOrder(r.hmmPfns()[i]));
            }
            assertEquals(0, bed.invalidations(), "a fault at a none PMD invalidates nothing");
        });
    }

    @Test
    void aNumaHintingLeaf_givesNoValidPfnWithoutAFaultRequest_andARequestFaultsItBackWhole_withoutAnInvalidation() {
        runClean(97, bed -> {
            bed.vma(BASE, NR, THP_RW);
            assertEquals(0, bed.faultUntilNotBusy(bed.range(BASE, NR, REQ_FAULT | REQ_WRITE, 0, null)));
            long head = Pte.pfn(bed.pte(BASE));
            assertEquals(NR, NumaBalancing.taskNumaWork(bed.mm, BASE, BASE + NR * PAGE));
            assertTrue(Pte.isHuge(bed.pte(BASE)) && Pte.isProtNone(bed.pte(BASE)));
            int marked = bed.invalidations();

            HmmRange snapshot = bed.range(BASE, 4, 0, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(snapshot));
            for (int i = 0; i < 4; i++) {
                assertEquals(0, snapshot.hmmPfns()[i] & (VALID | WRITE), "pmd_protnone: no cpu flags, page " + i);
            }
            assertTrue(Pte.isProtNone(bed.pte(BASE)), "a snapshot faults nothing in");

            HmmRange r = bed.range(BASE, NR, REQ_FAULT, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(r));
            long e = bed.pte(BASE);
            assertTrue(Pte.isHuge(e) && !Pte.isProtNone(e), "do_huge_pmd_numa_page restored the leaf, not split");
            for (int i = 0; i < NR; i++) {
                assertEquals((head + i) | VALID | WRITE | ORDER9, r.hmmPfns()[i], "page " + i);
            }
            assertEquals(marked, bed.invalidations(), "the hinting fault invalidates nothing");
        });
    }

    @Test
    void aReadRequest_mapsTheHugeZeroPage_readOnlyWithOrder9() {
        runClean(91, bed -> {
            bed.vma(BASE, NR, THP_RW);
            HmmRange r = bed.range(BASE, 4, REQ_FAULT, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(r));
            long zero = PhysMem.of(bed.k).hugeZeroPfn();
            for (int i = 0; i < 4; i++) {
                assertEquals((zero + i) | VALID | ORDER9, r.hmmPfns()[i]);
            }
        });
    }

    @Test
    void aWriteRequestOnTheHugeZeroPage_splitsItAndCopiesEachPage_outputsOrder0() {
        runClean(92, bed -> {
            bed.vma(BASE, NR, THP_RW);
            HmmRange read = bed.range(BASE, NR, REQ_FAULT, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(read));
            HmmRange r = bed.range(BASE, 8, REQ_FAULT | REQ_WRITE, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(r));
            assertFalse(Pte.isHuge(bed.pte(BASE)), "split");
            for (int i = 0; i < 8; i++) {
                long pte = bed.pte(BASE + i * PAGE);
                assertEquals(Pte.pfn(pte) | VALID | WRITE, r.hmmPfns()[i], "a base page, order 0");
            }
            assertTrue(Pte.isZero(bed.pte(BASE + 8 * PAGE)), "the pages not asked for map the zero page");
            assertTrue(bed.invalidations() >= 1, "the split and the copies invalidated the subscription");
        });
    }

    @Test
    void aRangeStartingInsideALeaf_andEndingInBasePages_givesEachItsOrder() {
        runClean(93, bed -> {
            bed.vma(BASE, 2 * NR, THP_RW);
            assertEquals(0, bed.faultUntilNotBusy(bed.range(BASE, 1, REQ_FAULT | REQ_WRITE, 0, null)));
            long next = BASE + NR * PAGE;
            long base = bed.anonPage(next, true);
            HmmRange r = bed.range(BASE + (NR - 2) * PAGE, 3, 0, 0, null);
            assertEquals(0, bed.fault(r));
            long head = Pte.pfn(bed.pte(BASE));
            assertEquals((head + NR - 2) | VALID | WRITE | ORDER9, r.hmmPfns()[0]);
            assertEquals((head + NR - 1) | VALID | WRITE | ORDER9, r.hmmPfns()[1]);
            assertEquals(base | VALID | WRITE, r.hmmPfns()[2]);
        });
    }
}
