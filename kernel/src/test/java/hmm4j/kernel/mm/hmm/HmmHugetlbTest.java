package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.VALID;
import static hmm4j.kernel.mm.hmm.HmmBed.WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.runClean;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Hugetlb;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm_range_fault} over a hugetlb mapping ({@code hmm_vma_walk_hugetlb_entry}): a fault
 * request maps the whole huge page, and every output has {@code pfn + index}, the page's
 * protection and map order 9; after {@code mprotect(PROT_READ)} the outputs lose WRITE.
 */
class HmmHugetlbTest {
    private static final long ORDER9 = HmmPfn.hmmPfnFlagsOrder(HugeMemory.HPAGE_PMD_ORDER);
    private static final int NR = Hugetlb.HUGE_PAGE_NR;

    @Test
    void aWriteFault_mapsTheHugePage_outputsOrder9_andReadOnlyAfterMprotect() {
        runClean(95, bed -> {
            long a = Mmap.mmap(bed.mm, 0, Hugetlb.HUGE_PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB, null, 0);
            assertTrue(a > 0);
            HmmRange r = bed.range(a + 8 * PAGE, 16, REQ_FAULT | REQ_WRITE, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(r));
            long head = bed.pte(a);
            assertTrue(Pte.isHuge(head) && Pte.isWrite(head), "the whole huge page is mapped");
            for (int i = 0; i < 16; i++) {
                assertEquals((Pte.pfn(head) + 8 + i) | VALID | WRITE | ORDER9, r.hmmPfns()[i], "page " + i);
            }
            assertEquals(0, Mprotect.mprotect(bed.mm, a, Hugetlb.HUGE_PAGE_SIZE, Mmap.PROT_READ));
            HmmRange all = bed.range(a, NR, 0, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(all));
            for (int i = 0; i < NR; i++) {
                assertEquals((Pte.pfn(head) + i) | VALID | ORDER9, all.hmmPfns()[i], "page " + i);
            }
            assertEquals(0, Mmap.munmap(bed.mm, a, Hugetlb.HUGE_PAGE_SIZE));
        });
    }
}
