package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Hugetlb;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.sync.Completion;
import org.junit.jupiter.api.Test;

/**
 * 1 GiB hugetlb pages under fork, mprotect and exit: the 512 PMD-size parts of a gigantic
 * folio are shared and released together, and the folio goes back to its pool only with the
 * last mapping of its last part.
 */
class GiganticHugetlbOpsTest {
    private static final long GB = Hugetlb.GIGANTIC_PAGE_SIZE;
    private static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    private static final int HUGE_1GB = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB | Mmap.MAP_HUGE_1GB;

    @Test
    void fork_sharesAllParts_andThePageReturnsWhenTheLastMappingGoes() {
        var k = inProcess(5, (kk, self, mm, ops) -> {
            Hugetlb pool = Hugetlb.of(kk);
            assertEquals(1, pool.setNrHugepages(Pte.PUD_SHIFT, 1));
            long a = Mmap.mmap(mm, 0, GB, RW, HUGE_1GB, null, 0);
            write(kk, a + GB - 64, pattern(64, 3));
            long[] at = {a, a + GB / 2, a + GB - Pte.PMD_SIZE};
            long[] childPfns = new long[at.length];
            Completion childDone = new Completion(kk, "child done");
            Completion parentUnmapped = new Completion(kk, "parent unmapped");
            Process.fork(self, "child", c -> {
                MmStruct cm = MmStruct.of(c);
                for (int i = 0; i < at.length; i++) {
                    long leaf = pte(cm, at[i]);
                    assertTrue(Pte.isHuge(leaf) && !Pte.isWrite(leaf), "shared read-only at " + i);
                    childPfns[i] = Pte.pfn(leaf);
                }
                assertArrayEquals(pattern(64, 3), read(kk, a + GB - 64, 64));
                childDone.complete();
                parentUnmapped.waitForCompletion();
            });
            childDone.waitForCompletion();
            for (int i = 0; i < at.length; i++) {
                assertEquals(Pte.pfn(pte(mm, at[i])), childPfns[i], "the same part at " + i);
            }
            assertEquals(0, Mmap.munmap(mm, a, GB));
            assertEquals(0, pool.freeHugePages(Pte.PUD_SHIFT), "the child still maps the page");
            parentUnmapped.complete();
        });
        assertEquals(1, Hugetlb.of(k).freeHugePages(Pte.PUD_SHIFT), "the child's exit gave it back");
    }

    @Test
    void mprotectBelowTheHugePageSizeIsEinval_andExitReturnsPagesAndReservations() {
        var k = inProcess(6, (kk, self, mm, ops) -> {
            Hugetlb pool = Hugetlb.of(kk);
            assertEquals(2, pool.setNrHugepages(Pte.PUD_SHIFT, 2));
            long a = Mmap.mmap(mm, 0, 2 * GB, RW, HUGE_1GB, null, 0);
            assertTrue(a > 0);
            assertEquals(2, pool.resvHugePages(Pte.PUD_SHIFT));
            write(kk, a + GB + 8 * PAGE, pattern(16, 1));
            assertEquals(1, pool.resvHugePages(Pte.PUD_SHIFT));
            assertEquals(-Errno.EINVAL, Mprotect.mprotect(mm, a, Pte.PMD_SIZE, Mmap.PROT_READ));
            assertEquals(0, Mprotect.mprotect(mm, a + GB, GB, Mmap.PROT_READ));
            assertTrue(!Pte.isWrite(pte(mm, a + 2 * GB - PAGE)), "the whole 1 GiB is read-only");
        });
        Hugetlb pool = Hugetlb.of(k);
        assertEquals(0, pool.resvHugePages(Pte.PUD_SHIFT));
        assertEquals(2, pool.freeHugePages(Pte.PUD_SHIFT));
    }
}
