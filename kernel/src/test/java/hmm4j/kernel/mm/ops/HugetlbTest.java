package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Hugetlb;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * hugetlbfs: the pool and its reservations at {@code mmap}, whole-page zeroed faults, unmap
 * and exit returning pages to the pool, and the huge-page alignment that unmap and mprotect
 * of a hugetlb VMA require.
 */
class HugetlbTest {
    private static final long HPAGE = Hugetlb.HUGE_PAGE_SIZE;
    private static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    private static final int HUGE = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB;

    private static long mapHuge(MmStruct mm, long len, int flags) {
        return Mmap.mmap(mm, 0, len, RW, flags, null, 0);
    }

    @Test
    void mmapReserves_aFaultMapsAWholeZeroedPage_andMunmapReturnsItToThePool() {
        inProcess(1, (kk, self, mm, ops) -> {
            Hugetlb pool = Hugetlb.of(kk);
            assertEquals(Hugetlb.DEFAULT_NR_HUGEPAGES, pool.nrHugepages());
            assertEquals(2048, pool.hugepagesizeKb());
            long a = mapHuge(mm, 2 * HPAGE - PAGE, HUGE);
            assertTrue(a > 0 && a % HPAGE == 0, "placed at a huge-page boundary");
            assertEquals(2, pool.resvHugePages(), "the length is rounded up to huge pages and reserved");
            assertEquals(2 * HPAGE, MmHarness.vmaAt(mm, a).vmEnd() - a);
            assertTrue(MmHarness.vmaAt(mm, a).hasAny(VmFlags.VM_HUGETLB));
            ops.clear();

            write(kk, a + 7 * PAGE + 3, pattern(64, 5));

            assertEquals(List.of(), ops.events(), "a fault sends no event");
            long leaf = pte(mm, a);
            assertTrue(Pte.isHuge(leaf) && Pte.isWrite(leaf), "one writable PMD leaf");
            assertEquals(Pte.pfn(leaf) + 300, Pte.pfn(pte(mm, a + 300 * PAGE)));
            assertEquals(1, pool.resvHugePages(), "the fault consumed one reservation");
            assertEquals(Hugetlb.DEFAULT_NR_HUGEPAGES - 1, pool.freeHugePages());
            assertArrayEquals(new byte[16], read(kk, a + 511 * PAGE, 16), "the rest of the page is zero");
            assertArrayEquals(pattern(64, 5), read(kk, a + 7 * PAGE + 3, 64));
            assertEquals(0, Pte.pfn(leaf) % Hugetlb.HUGE_PAGE_NR);

            assertEquals(-Errno.EINVAL, Mmap.munmap(mm, a + PAGE, PAGE), "hugetlb pages are never split");
            assertEquals(-Errno.EINVAL, Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_READ));
            ops.clear();
            assertEquals(0, Mmap.munmap(mm, a, 2 * HPAGE));
            assertEquals(List.of(start("MMU_NOTIFY_UNMAP", a, a + 2 * HPAGE, true),
                    end("MMU_NOTIFY_UNMAP", a, a + 2 * HPAGE)), ops.events());
            assertEquals(0, pool.resvHugePages(), "the unfaulted page's reservation is given back");
            assertEquals(Hugetlb.DEFAULT_NR_HUGEPAGES, pool.freeHugePages(), "the faulted page is back");

            long b = mapHuge(mm, HPAGE, HUGE);
            write(kk, b, pattern(8, 1));
            long again = pte(mm, b);
            assertArrayEquals(new byte[64], read(kk, b + 7 * PAGE + 3, 64), "a reused pool page is zeroed");
            assertTrue(Pte.isHuge(again));
            assertEquals(0, Mmap.munmap(mm, b, HPAGE));
        });
    }

    @Test
    void notEnoughHugePages_mmapFailsWithEnomem_andNoreserveFaultsFailWithSigbus() {
        inProcess(2, (kk, self, mm, ops) -> {
            Hugetlb pool = Hugetlb.of(kk);
            assertEquals(2, pool.setNrHugepages(2));
            assertEquals(-Errno.ENOMEM, mapHuge(mm, 3 * HPAGE, HUGE), "three pages cannot be reserved");
            long a = mapHuge(mm, 2 * HPAGE, HUGE);
            assertTrue(a > 0);
            assertEquals(-Errno.ENOMEM, mapHuge(mm, HPAGE, HUGE), "both pages are reserved");
            long b = mapHuge(mm, HPAGE, HUGE | Mmap.MAP_NORESERVE);
            assertTrue(b > 0, "MAP_NORESERVE maps without a reservation");
            assertNotEquals(0, MmHarness.vmaAt(mm, b).flags() & VmFlags.VM_NORESERVE);
            var vmaB = MmHarness.vmaAt(mm, b);
            mm.mmapReadLock();
            try {
                assertEquals(hmm4j.kernel.mm.Fault.VM_FAULT_SIGBUS, hmm4j.kernel.mm.Fault.handleMmFault(mm,
                        vmaB, b, hmm4j.kernel.mm.Fault.FAULT_FLAG_WRITE),
                        "no unreserved free page");
            } finally {
                mm.mmapReadUnlock();
            }
            write(kk, a, pattern(4, 2));
            write(kk, a + HPAGE, pattern(4, 3));
            assertEquals(0, pool.freeHugePages());
            assertEquals(2, pool.setNrHugepages(1), "pages in use are not freed");
            assertEquals(0, Mmap.munmap(mm, a, HPAGE));
            assertEquals(1, pool.freeHugePages());
        });
    }

    @Test
    void fork_sharesTheLeaf_andTheChildsWriteCopiesTheWholeHugePage() {
        inProcess(4, (kk, self, mm, ops) -> {
            Hugetlb pool = Hugetlb.of(kk);
            long a = mapHuge(mm, HPAGE, HUGE);
            write(kk, a, pattern(64, 9));
            hmm4j.sim.sync.Completion childDone = new hmm4j.sim.sync.Completion(kk, "child done");
            hmm4j.kernel.sched.Process.fork(self, "child", c -> {
                MmStruct cm = MmStruct.of(c);
                long shared = pte(cm, a);
                assertTrue(Pte.isHuge(shared) && !Pte.isWrite(shared), "the child shares the leaf read-only");
                assertNotEquals(0, MmHarness.vmaAt(cm, a).flags() & VmFlags.VM_NORESERVE,
                        "the child's copy owns no reservation");
                write(kk, a + 5 * PAGE, new byte[] {7});
                long copy = pte(cm, a);
                assertTrue(Pte.isHuge(copy) && Pte.isWrite(copy), "a whole new huge page, never split");
                assertNotEquals(Pte.pfn(shared), Pte.pfn(copy));
                assertArrayEquals(pattern(64, 9), read(kk, a, 64), "the copy has the contents");
                assertEquals(Hugetlb.DEFAULT_NR_HUGEPAGES - 2, pool.freeHugePages(), "two pages in use");
                childDone.complete();
            });
            childDone.waitForCompletion();
            assertArrayEquals(new byte[] {0}, read(kk, a + 5 * PAGE, 1), "the child's write is its own");
            assertTrue(Pte.isHuge(pte(mm, a)), "the parent keeps its leaf");
        });
    }

    @Test
    void exit_returnsMappedPagesAndReservationsToThePool() {
        var k = hmm4j.kernel.mm.ops.MmHarness.inProcess(3, (kk, self, mm, ops) -> {
            long a = mapHuge(mm, 3 * HPAGE, HUGE);
            write(kk, a + HPAGE, pattern(4, 4));
            assertEquals(2, Hugetlb.of(kk).resvHugePages());
        });
        Hugetlb pool = Hugetlb.of(k);
        assertEquals(0, pool.resvHugePages());
        assertEquals(Hugetlb.DEFAULT_NR_HUGEPAGES, pool.freeHugePages());
    }
}
