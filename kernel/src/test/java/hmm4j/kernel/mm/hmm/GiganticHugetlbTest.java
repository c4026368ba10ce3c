package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.VALID;
import static hmm4j.kernel.mm.hmm.HmmBed.WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.runClean;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Hugetlb;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import org.junit.jupiter.api.Test;

/**
 * 1 GiB hugetlb pages ({@code MAP_HUGETLB | MAP_HUGE_1GB}): the size decoded from
 * {@code MAP_HUGE_SHIFT}, the per-size pool, a fault mapping the whole gigantic page, and
 * {@code hmm_range_fault} reporting map order 18 ({@code huge_page_order(hstate_vma(vma))})
 * for every page of it.
 */
class GiganticHugetlbTest {
    private static final long GB = Hugetlb.GIGANTIC_PAGE_SIZE;
    private static final int NR = (int) (GB / PAGE);
    private static final long ORDER18 = HmmPfn.hmmPfnFlagsOrder(Hugetlb.GIGANTIC_ORDER);
    private static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    private static final int HUGE_1GB = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB | Mmap.MAP_HUGE_1GB;

    @Test
    void aFault_mapsTheWholeGiganticPage_hmmReportsOrder18_andMunmapReturnsItToThePool() {
        runClean(181, bed -> {
            Hugetlb pool = Hugetlb.of(bed.mm.kernel());
            assertEquals(0, pool.nrHugepages(Pte.PUD_SHIFT), "no 1 GiB page until nr_hugepages is set");
            assertEquals(1, pool.setNrHugepages(Pte.PUD_SHIFT, 1));
            assertEquals(Hugetlb.DEFAULT_NR_HUGEPAGES, pool.nrHugepages(), "the 2 MiB pool is unchanged");
            long a = Mmap.mmap(bed.mm, 0, GB - PAGE, RW, HUGE_1GB, null, 0);
            assertTrue(a > 0 && a % GB == 0, "placed at a 1 GiB boundary: 0x" + Long.toHexString(a));
            assertEquals(1, pool.resvHugePages(Pte.PUD_SHIFT), "the length is rounded up to 1 GiB and reserved");
            assertEquals(0, pool.resvHugePages(), "no 2 MiB reservation");

            HmmRange r = bed.range(a + 300 * PAGE, 16, REQ_FAULT | REQ_WRITE, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(r));
            long head = Pte.pfn(bed.pte(a));
            assertEquals(0, head & (NR - 1), "the gigantic folio is 1 GiB aligned in pfns");
            for (int i = 0; i < 16; i++) {
                assertEquals((head + 300 + i) | VALID | WRITE | ORDER18, r.hmmPfns()[i], "page " + i);
            }
            assertEquals(0, pool.freeHugePages(Pte.PUD_SHIFT));
            assertEquals(0, pool.resvHugePages(Pte.PUD_SHIFT), "the fault consumed the reservation");
            long last = bed.pte(a + GB - PAGE);
            assertTrue(Pte.isHuge(last) && Pte.isWrite(last), "the fault mapped the whole 1 GiB");

            HmmRange all = bed.range(a, NR, 0, 0, null);
            assertEquals(0, bed.faultUntilNotBusy(all));
            for (int i = 0; i < NR; i++) {
                assertEquals((head + i) | VALID | WRITE | ORDER18, all.hmmPfns()[i], "page " + i);
                assertEquals(Hugetlb.GIGANTIC_ORDER, HmmPfn.hmmPfnToMapOrder(all.hmmPfns()[i]));
            }

            int before = bed.invalidations();
            assertEquals(-Errno.EINVAL, Mmap.munmap(bed.mm, a + Pte.PMD_SIZE, Pte.PMD_SIZE),
                    "an unmap inside the 1 GiB page is refused (hugetlb_vm_op_split)");
            assertEquals(0, Mmap.munmap(bed.mm, a, GB));
            assertTrue(bed.invalidations() > before, "the unmap invalidated the mirror");
            assertEquals(1, pool.freeHugePages(Pte.PUD_SHIFT), "the page went back to the pool");
        });
    }

    @Test
    void anEmptyPool_failsTheMmap_andAnUnknownSizeIsEinval() {
        runClean(182, bed -> {
            Hugetlb pool = Hugetlb.of(bed.mm.kernel());
            assertEquals(-Errno.ENOMEM, Mmap.mmap(bed.mm, 0, GB, RW, HUGE_1GB, null, 0),
                    "no 1 GiB page to reserve");
            long nores = Mmap.mmap(bed.mm, 0, GB, RW, HUGE_1GB | Mmap.MAP_NORESERVE, null, 0);
            assertTrue(nores > 0, "MAP_NORESERVE maps without a page");
            HmmRange r = bed.range(nores, 1, REQ_FAULT, 0, null);
            assertEquals(-Errno.EFAULT, bed.faultUntilNotBusy(r), "the fault finds no page: SIGBUS");
            assertEquals(0, Mmap.munmap(bed.mm, nores, GB));
            int huge64k = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB | (16 << Mmap.MAP_HUGE_SHIFT);
            assertEquals(-Errno.EINVAL, Mmap.mmap(bed.mm, 0, GB, RW, huge64k, null, 0), "no 64 KiB hstate");
            long two = Mmap.mmap(bed.mm, 0, Pte.PMD_SIZE, RW,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB | Mmap.MAP_HUGE_2MB, null, 0);
            assertTrue(two > 0);
            assertEquals(1, pool.resvHugePages(), "MAP_HUGE_2MB is the default size");
            assertEquals(0, Mmap.munmap(bed.mm, two, Pte.PMD_SIZE));
        });
    }
}
