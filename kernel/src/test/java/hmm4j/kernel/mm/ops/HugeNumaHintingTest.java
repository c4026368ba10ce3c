package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.FolioPins;
import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.NumaBalancing;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * NUMA hinting of a PMD-mapped THP: {@code task_numa_work} → {@code change_protection} with
 * {@code MM_CP_PROT_NUMA} makes a leaf its window covers whole prot-none in one step
 * ({@code change_huge_pmd}), splits a leaf it covers in part and marks only the covered PTEs,
 * skips the huge zero page, a leaf already marked, a pinned THP and one shared with a forked
 * child; the hinting fault
 * ({@code do_huge_pmd_numa_page}) restores the leaf without a split or an invalidation, and
 * writable exactly when {@code can_change_pmd_writable} allows.
 */
class HugeNumaHintingTest {
    private static final long HPAGE = Pte.PMD_SIZE;
    private static final int NR = HugeMemory.HPAGE_PMD_NR;
    private static final String CLEAR = "MMU_NOTIFY_CLEAR";
    private static final String PROT_VMA = "MMU_NOTIFY_PROTECTION_VMA";

    /** Maps 4 MiB with MADV_HUGEPAGE and returns the 2 MiB-aligned address inside it. */
    private static long thpArea(MmStruct mm) {
        long raw = mapAnon(mm, 2 * NR, RW);
        assertEquals(0, Madvise.madvise(mm, raw, 2 * HPAGE, Madvise.MADV_HUGEPAGE));
        return (raw + HPAGE - 1) & Pte.PMD_MASK;
    }

    private static long leaves(MmStruct mm) {
        mm.pageTableLock().lock();
        try {
            return mm.pgd("test").pmdLeafCount();
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    @Test
    void aCoveredThp_becomesOneProtNonePmd_withOneProtectionVmaAndNoSplit() {
        inProcess(11, (k, self, mm, ops) -> {
            long a = thpArea(mm);
            write(k, a + 3 * PAGE, pattern(64, 1));
            assertEquals(1, leaves(mm));
            ops.clear();

            assertEquals(NR, NumaBalancing.taskNumaWork(mm, a, a + HPAGE), "change_huge_pmd counts HPAGE_PMD_NR pages");

            assertEquals(List.of(start(PROT_VMA, a, a + HPAGE, true), end(PROT_VMA, a, a + HPAGE)), ops.events(),
                    "one PROTECTION_VMA over the window, no CLEAR of a split");
            assertEquals(1, leaves(mm), "still one PMD leaf");
            for (long off : new long[] {0, 3 * PAGE, HPAGE - PAGE}) {
                long e = pte(mm, a + off);
                assertTrue(Pte.isHuge(e) && Pte.isProtNone(e) && !Pte.isWrite(e), "a hinting leaf: " + Pte.toString(e));
            }
            ops.clear();

            assertEquals(0, NumaBalancing.taskNumaWork(mm, a, a + HPAGE), "a leaf already marked is left alone");
            assertEquals(List.of(start(PROT_VMA, a, a + HPAGE, true), end(PROT_VMA, a, a + HPAGE)), ops.events());
        });
    }

    @Test
    void aReadFault_restoresTheLeafWhole_writableForAnExclusiveThp_withoutAnyInvalidation() {
        inProcess(12, (k, self, mm, ops) -> {
            long a = thpArea(mm);
            write(k, a + 7 * PAGE, pattern(32, 2));
            long pfn = Pte.pfn(pte(mm, a));
            assertEquals(NR, NumaBalancing.taskNumaWork(mm, a, a + HPAGE));
            ops.clear();

            assertArrayEquals(pattern(32, 2), read(k, a + 7 * PAGE, 32));

            assertEquals(List.of(), ops.events(), "do_huge_pmd_numa_page sends no invalidation");
            assertEquals(1, leaves(mm), "not split");
            long e = pte(mm, a + 100 * PAGE);
            assertFalse(Pte.isProtNone(e), Pte.toString(e));
            assertEquals(pfn + 100, Pte.pfn(e), "the same THP");
            assertTrue(Pte.isYoung(e));
            assertTrue(Pte.isWrite(e), "can_change_pmd_writable: an exclusive anonymous THP in a VM_WRITE VMA");
        });
    }

    @Test
    void aWriteFault_restoresTheLeafAndWrites_stillOnePmd_withoutAnyInvalidation() {
        inProcess(13, (k, self, mm, ops) -> {
            long a = thpArea(mm);
            write(k, a, new byte[] {1});
            long pfn = Pte.pfn(pte(mm, a));
            assertEquals(NR, NumaBalancing.taskNumaWork(mm, a, a + HPAGE));
            ops.clear();

            write(k, a + 9 * PAGE, pattern(16, 3));

            assertEquals(List.of(), ops.events(), "no split, no copy, no invalidation");
            assertEquals(1, leaves(mm));
            long e = pte(mm, a + 9 * PAGE);
            assertTrue(Pte.isHuge(e) && Pte.isWrite(e) && Pte.isDirty(e) && !Pte.isProtNone(e), Pte.toString(e));
            assertEquals(pfn + 9, Pte.pfn(e), "the THP was reused, not copied");
            assertArrayEquals(pattern(16, 3), read(k, a + 9 * PAGE, 16));
        });
    }

    @Test
    void inAReadOnlyVma_theFaultRestoresTheLeafReadOnly() {
        inProcess(14, (k, self, mm, ops) -> {
            long a = thpArea(mm);
            write(k, a, new byte[] {4});
            assertEquals(0, Mprotect.mprotect(mm, a, HPAGE, Mmap.PROT_READ));
            assertEquals(1, leaves(mm));
            assertEquals(NR, NumaBalancing.taskNumaWork(mm, a, a + HPAGE));
            ops.clear();

            assertArrayEquals(new byte[] {4}, read(k, a, 1));

            long e = pte(mm, a);
            assertTrue(Pte.isHuge(e) && !Pte.isProtNone(e), Pte.toString(e));
            assertFalse(Pte.isWrite(e), "no VM_WRITE: the leaf gets the VMA's read-only protection back");
            assertEquals(List.of(), ops.events());
        });
    }

    @Test
    void aPartialWindow_splitsTheLeafInsideTheProtectionVma_andMarksOnlyTheCoveredPtes() {
        inProcess(15, (k, self, mm, ops) -> {
            long a = thpArea(mm);
            write(k, a, new byte[] {5});
            ops.clear();
            long from = a + 16 * PAGE;
            long to = a + 32 * PAGE;

            assertEquals(16, NumaBalancing.taskNumaWork(mm, from, to));

            assertEquals(List.of(start(PROT_VMA, from, to, true), start(CLEAR, a, a + HPAGE, true),
                    end(CLEAR, a, a + HPAGE), end(PROT_VMA, from, to)), ops.events(),
                    "__split_huge_pmd's CLEAR nests in the PROTECTION_VMA, as change_pmd_range does it");
            assertEquals(0, leaves(mm), "split");
            for (int i = 0; i < NR; i += 1) {
                long e = pte(mm, a + i * PAGE);
                boolean covered = i >= 16 && i < 32;
                assertFalse(Pte.isHuge(e));
                assertEquals(covered, Pte.isProtNone(e), "page " + i + ": " + Pte.toString(e));
            }
        });
    }

    @Test
    void theHugeZeroPage_andAPinnedThp_areLeftAlone() {
        inProcess(16, (k, self, mm, ops) -> {
            long z = thpArea(mm);
            assertArrayEquals(new byte[4], read(k, z, 4));
            long zero = pte(mm, z);
            assertTrue(Pte.isHuge(zero) && Pte.pfn(zero) == PhysMem.of(k).hugeZeroPfn(), "the huge zero page");
            ops.clear();

            assertEquals(0, NumaBalancing.taskNumaWork(mm, z, z + HPAGE));

            assertEquals(List.of(start(PROT_VMA, z, z + HPAGE, true), end(PROT_VMA, z, z + HPAGE)), ops.events(),
                    "the populated window still gets its PROTECTION_VMA");
            assertFalse(Pte.isProtNone(pte(mm, z)), "is_huge_zero_pmd: skipped");
            assertEquals(1, leaves(mm), "not split");

            long a = thpArea(mm);
            write(k, a, new byte[] {6});
            Page[] pinned = new Page[1];
            mm.mmapReadLock();
            assertEquals(1, Gup.pinUserPages(mm, a + 5 * PAGE, 1, Gup.FOLL_WRITE, pinned));
            mm.mmapReadUnlock();
            assertEquals(1, FolioPins.of(k).pincount(pinned[0]));
            assertEquals(0, NumaBalancing.taskNumaWork(mm, a, a + HPAGE));
            assertFalse(Pte.isProtNone(pte(mm, a)), "folio_maybe_dma_pinned (one page of the THP): skipped");
            Gup.unpinUserPages(mm, pinned, 1);
            assertEquals(NR, NumaBalancing.taskNumaWork(mm, a, a + HPAGE), "unpinned, it is marked");
        });
    }

    @Test
    void aThpSharedWithAForkedChild_isLeftAlone_inTheCopyOnWriteVma() {
        inProcess(17, (k, self, mm, ops) -> {
            long a = thpArea(mm);
            write(k, a, new byte[] {8});
            Completion scanned = new Completion(k, "scanned");
            Task child = Process.fork(self, "child", c -> scanned.waitForCompletion());
            assertEquals(1, leaves(mm));

            assertEquals(0, NumaBalancing.taskNumaWork(mm, a, a + HPAGE),
                    "is_cow_mapping and folio_maybe_mapped_shared: skipped");
            assertFalse(Pte.isProtNone(pte(mm, a)));
            assertEquals(1, leaves(mm), "not split");
            scanned.complete();
            child.join();

            assertEquals(NR, NumaBalancing.taskNumaWork(mm, a, a + HPAGE), "mapped once again, it is marked");
        });
    }
}
