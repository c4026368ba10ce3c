package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.assertNothingAllocated;
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

import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.SwapSpace;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Anonymous THP: which faults map a PMD, the huge zero page, and the splits, zaps, fork,
 * copy-on-write and reclaim of a PMD leaf with the notifier events the kernel sends for each.
 */
class ThpTest {
    private static final long HPAGE = Pte.PMD_SIZE;
    private static final int NR = HugeMemory.HPAGE_PMD_NR;
    private static final String CLEAR = "MMU_NOTIFY_CLEAR";
    private static final String UNMAP = "MMU_NOTIFY_UNMAP";
    private static final String PROT_VMA = "MMU_NOTIFY_PROTECTION_VMA";
    private static final String PROT_PAGE = "MMU_NOTIFY_PROTECTION_PAGE";

    /** Maps 4 MiB and returns the 2 MiB-aligned address inside it (the selftest's ALIGN). */
    private static long alignedHuge(MmStruct mm) {
        long raw = mapAnon(mm, 2 * NR, RW);
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
    void madviseHugepage_thenAWrite_mapsOneWritablePmdOf512Pages_andMunmapFreesThemAll() {
        Kernel k = inProcess(1, (kk, self, mm, ops) -> {
            long a = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            write(kk, a + 5 * PAGE, pattern(100, 3));

            assertEquals(List.of(), ops.events(), "an anonymous fault sends no event");
            assertEquals(1, leaves(mm));
            assertEquals(used + NR, PhysMem.of(kk).usedPages(), "one THP: 512 pages");
            long head = pte(mm, a);
            assertTrue(Pte.isHuge(head) && Pte.isWrite(head) && Pte.isDirty(head));
            assertEquals(Pte.pfn(head) + 5, Pte.pfn(pte(mm, a + 5 * PAGE)), "pfn + index inside the leaf");
            assertEquals(0, Pte.pfn(head) % NR, "the THP's pfns are aligned");
            assertArrayEquals(pattern(100, 3), read(kk, a + 5 * PAGE, 100));
            ops.clear();

            assertEquals(0, Mmap.munmap(mm, a, HPAGE));

            assertEquals(List.of(start(UNMAP, a, a + HPAGE, true), end(UNMAP, a, a + HPAGE)), ops.events(),
                    "a whole leaf is zapped without a split");
            assertEquals(used, PhysMem.of(kk).usedPages());
            assertEquals(0, leaves(mm));
        });
        assertNothingAllocated(k);
    }

    @Test
    void thePolicyDecides_alwaysMapsWithoutAdvice_neverAndNohugepageMapBasePages_andUnalignedRangesDoNot() {
        inProcess(2, (kk, self, mm, ops) -> {
            HugeMemory thp = HugeMemory.of(kk);
            long a = alignedHuge(mm);
            write(kk, a, new byte[] {1});
            assertEquals(0, leaves(mm), "madvise policy without MADV_HUGEPAGE: a base page");
            assertFalse(Pte.isHuge(pte(mm, a)));

            thp.setEnabled(HugeMemory.Enabled.ALWAYS);
            long b = alignedHuge(mm);
            write(kk, b, new byte[] {1});
            assertEquals(1, leaves(mm), "always: a THP without advice");

            long c = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, c, HPAGE, Madvise.MADV_NOHUGEPAGE));
            write(kk, c, new byte[] {1});
            assertEquals(1, leaves(mm), "MADV_NOHUGEPAGE wins over always");

            long small = mapAnon(mm, NR - 1, RW);
            write(kk, small, new byte[] {1});
            assertEquals(1, leaves(mm), "a VMA smaller than 2 MiB never gets a PMD");

            thp.setEnabled(HugeMemory.Enabled.NEVER);
            long d = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, d, HPAGE, Madvise.MADV_HUGEPAGE));
            write(kk, d, new byte[] {1});
            assertEquals(1, leaves(mm), "never: no THP even with MADV_HUGEPAGE");
        });
    }

    @Test
    void aReadFaultMapsTheHugeZeroPage_andAWriteSplitsIt_withAClearOfThePmd_thenCopiesOnePage() {
        Kernel k = inProcess(3, (kk, self, mm, ops) -> {
            long a = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            long used = PhysMem.of(kk).usedPages();

            assertArrayEquals(new byte[8], read(kk, a + 7 * PAGE, 8));
            long zero = pte(mm, a);
            assertTrue(Pte.isHuge(zero) && Pte.isSpecial(zero) && !Pte.isWrite(zero));
            assertEquals(PhysMem.of(kk).hugeZeroPfn(), Pte.pfn(zero));
            assertEquals(used, PhysMem.of(kk).usedPages(), "the huge zero page costs nothing");
            ops.clear();

            write(kk, a + 7 * PAGE, new byte[] {9});

            long page = a + 7 * PAGE;
            assertEquals(List.of(start(CLEAR, a, a + HPAGE, true), end(CLEAR, a, a + HPAGE),
                    start(CLEAR, page, page + PAGE, true), end(CLEAR, page, page + PAGE)), ops.events());
            assertEquals(0, leaves(mm));
            assertTrue(Pte.isZero(pte(mm, a)), "the other pages map the ordinary zero page");
            assertEquals(used + 1, PhysMem.of(kk).usedPages(), "one base page copied");
            assertEquals(0, Mmap.munmap(mm, a, HPAGE));
        });
        assertNothingAllocated(k);
    }

    @Test
    void partialMunmap_splitsThePmdWithAClearOfIt_beforeTheUnmap_andFreesOnlyTheUnmappedPages() {
        Kernel k = inProcess(4, (kk, self, mm, ops) -> {
            long a = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            write(kk, a, pattern((int) HPAGE, 4));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            long hole = a + 16 * PAGE;
            assertEquals(0, Mmap.munmap(mm, hole, 4 * PAGE));

            assertEquals(List.of(start(CLEAR, a, a + HPAGE, true), end(CLEAR, a, a + HPAGE),
                    start(UNMAP, hole, hole + 4 * PAGE, true), end(UNMAP, hole, hole + 4 * PAGE)), ops.events());
            assertEquals(0, leaves(mm));
            assertEquals(used - 4, PhysMem.of(kk).usedPages());
            assertFalse(Pte.isHuge(pte(mm, a)));
            byte[] all = pattern((int) HPAGE, 4);
            byte[] tail = new byte[(int) PAGE];
            System.arraycopy(all, (int) (20 * PAGE), tail, 0, tail.length);
            assertArrayEquals(tail, read(kk, a + 20 * PAGE, (int) PAGE), "the rest keeps its contents");
        });
        assertNothingAllocated(k);
    }

    @Test
    void mprotect_ofAWholeLeafKeepsIt_ofPartSplitsItFirst() {
        inProcess(5, (kk, self, mm, ops) -> {
            long a = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            write(kk, a, new byte[] {1});
            ops.clear();

            assertEquals(0, Mprotect.mprotect(mm, a, HPAGE, Mmap.PROT_READ));
            assertEquals(List.of(start(PROT_VMA, a, a + HPAGE, true), end(PROT_VMA, a, a + HPAGE)), ops.events());
            assertEquals(1, leaves(mm));
            assertTrue(Pte.isHuge(pte(mm, a + 100 * PAGE)) && !Pte.isWrite(pte(mm, a + 100 * PAGE)));
            ops.clear();

            assertEquals(0, Mprotect.mprotect(mm, a, 8 * PAGE, RW));
            assertEquals(List.of(start(CLEAR, a, a + HPAGE, true), end(CLEAR, a, a + HPAGE),
                    start(PROT_VMA, a, a + 8 * PAGE, true), end(PROT_VMA, a, a + 8 * PAGE)), ops.events());
            assertEquals(0, leaves(mm));
        });
    }

    @Test
    void dontneedOfPart_nestsTheSplitsClearInsideItsOwn() {
        inProcess(6, (kk, self, mm, ops) -> {
            long a = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            write(kk, a, new byte[] {1});
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(0, Madvise.madvise(mm, a + PAGE, PAGE, Madvise.MADV_DONTNEED));

            assertEquals(List.of(start(CLEAR, a + PAGE, a + 2 * PAGE, true), start(CLEAR, a, a + HPAGE, true),
                    end(CLEAR, a, a + HPAGE), end(CLEAR, a + PAGE, a + 2 * PAGE)), ops.events());
            assertEquals(used - 1, PhysMem.of(kk).usedPages());
            assertTrue(Pte.isNone(pte(mm, a + PAGE)));
        });
    }

    @Test
    void fork_sharesTheLeafWriteProtected_andTheParentsWriteSplitsItAndCopiesOnePage() {
        Kernel k = inProcess(7, (kk, self, mm, ops) -> {
            long a = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            write(kk, a, pattern(64, 7));
            long used = PhysMem.of(kk).usedPages();
            AtomicBoolean childChecked = new AtomicBoolean();
            Completion childDone = new Completion(kk, "child checked");
            Completion parentWrote = new Completion(kk, "parent wrote");
            ops.clear();
            Process.fork(self, "child", c -> {
                parentWrote.waitForCompletion();
                MmStruct cm = MmStruct.of(c);
                long e = pte(cm, a + 3 * PAGE);
                assertTrue(Pte.isHuge(e) && !Pte.isWrite(e), "the child keeps the leaf, read-only");
                assertArrayEquals(pattern(64, 7), read(kk, a, 64));
                assertArrayEquals(new byte[] {0}, read(kk, a + 2 * PAGE, 1), "the parent's write is not seen");
                childChecked.set(true);
                childDone.complete();
            });
            assertTrue(Pte.isHuge(pte(mm, a)) && !Pte.isWrite(pte(mm, a)), "the parent's leaf is write-protected");
            assertEquals(used, PhysMem.of(kk).usedPages(), "fork copies no page");
            assertTrue(ops.events().get(0).startsWith("start " + PROT_PAGE));
            ops.clear();

            write(kk, a + 2 * PAGE, new byte[] {5});
            parentWrote.complete();
            childDone.waitForCompletion();

            long page = a + 2 * PAGE;
            assertEquals(List.of(start(CLEAR, a, a + HPAGE, true), end(CLEAR, a, a + HPAGE),
                    start(CLEAR, page, page + PAGE, true), end(CLEAR, page, page + PAGE)), ops.events());
            assertTrue(childChecked.get());
        });
        assertNothingAllocated(k);
    }

    @Test
    void reclaimOfAThp_isOneClearOfThePmd_512SwapEntries_andTheContentsComeBack() {
        Kernel k = inProcess(8, (kk, self, mm, ops) -> {
            long a = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            write(kk, a, pattern((int) HPAGE, 8));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(NR, Vmscan.reclaimAnon(mm, a, a + HPAGE));

            assertEquals(List.of(start(CLEAR, a, a + HPAGE, true), end(CLEAR, a, a + HPAGE)), ops.events());
            assertEquals(used - NR, PhysMem.of(kk).usedPages());
            assertEquals(NR, SwapSpace.of(kk).usedSlots());
            assertTrue(Pte.isSwap(pte(mm, a + 9 * PAGE)));
            assertArrayEquals(pattern((int) HPAGE, 8), read(kk, a, (int) HPAGE));
            assertEquals(0, Mmap.munmap(mm, a, HPAGE));
        });
        assertNothingAllocated(k);
    }

    @Test
    void madviseFree_thenReclaim_dropsCleanPagesWithoutSwap_keepsRewrittenOnes_andAWholeThpGoesAtOnce() {
        Kernel k = inProcess(9, (kk, self, mm, ops) -> {
            long b = mapAnon(mm, 4, RW);
            write(kk, b, pattern((int) (4 * PAGE), 9));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(0, Madvise.madvise(mm, b, 4 * PAGE, Madvise.MADV_FREE));
            assertEquals(List.of(start(CLEAR, b, b + 4 * PAGE, true), end(CLEAR, b, b + 4 * PAGE)), ops.events());
            assertFalse(Pte.isDirty(pte(mm, b)), "the entries are clean");
            write(kk, b + 3 * PAGE, new byte[] {42});

            assertEquals(4, Vmscan.reclaimAnon(mm, b, b + 4 * PAGE));
            assertEquals(used - 4, PhysMem.of(kk).usedPages());
            assertEquals(1, SwapSpace.of(kk).usedSlots(), "only the page written again went to swap");
            assertTrue(Pte.isNone(pte(mm, b)), "a clean lazily freed page is dropped");
            assertArrayEquals(new byte[(int) PAGE], read(kk, b, (int) PAGE), "and reads as zeros");
            assertArrayEquals(new byte[] {42}, read(kk, b + 3 * PAGE, 1));

            long a = alignedHuge(mm);
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            write(kk, a, pattern((int) PAGE, 10));
            long withThp = PhysMem.of(kk).usedPages();
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_FREE));
            assertEquals(1, leaves(mm), "a whole leaf is freed lazily without a split");
            ops.clear();

            assertEquals(NR, Vmscan.reclaimAnon(mm, a, a + HPAGE));
            assertEquals(List.of(start(CLEAR, a, a + HPAGE, true), end(CLEAR, a, a + HPAGE)), ops.events());
            assertEquals(withThp - NR, PhysMem.of(kk).usedPages());
            assertEquals(0, leaves(mm));
            assertTrue(Pte.isNone(pte(mm, a)));
            assertEquals(0, Mmap.munmap(mm, a, HPAGE));
            assertEquals(0, Mmap.munmap(mm, b, 4 * PAGE));
        });
        assertNothingAllocated(k);
    }

    @Test
    void madviseCollapse_copiesTheBlockIntoOneThp_withOneClearOfIt_andFailsOnAnUnpopulatedOrPinnedBlock() {
        Kernel k = inProcess(10, (kk, self, mm, ops) -> {
            long a = alignedHuge(mm);
            assertEquals(-22, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_COLLAPSE), "no page table: SCAN_PMD_NULL");
            write(kk, a, pattern((int) (3 * PAGE), 11));
            write(kk, a + 100 * PAGE, pattern(16, 12));
            long used = PhysMem.of(kk).usedPages();
            assertEquals(0, leaves(mm));
            ops.clear();

            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_COLLAPSE), "the sysfs policy does not matter");

            assertEquals(List.of(start(CLEAR, a, a + HPAGE, true), end(CLEAR, a, a + HPAGE)), ops.events());
            assertEquals(1, leaves(mm));
            assertEquals(used - 4 + NR, PhysMem.of(kk).usedPages(), "4 base pages replaced by one THP");
            assertArrayEquals(pattern((int) (3 * PAGE), 11), read(kk, a, (int) (3 * PAGE)));
            assertArrayEquals(pattern(16, 12), read(kk, a + 100 * PAGE, 16));
            assertArrayEquals(new byte[16], read(kk, a + 200 * PAGE, 16), "a none entry becomes zeros");
            ops.clear();
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_COLLAPSE), "already a THP");
            assertEquals(List.of(), ops.events());

            long b = alignedHuge(mm);
            write(kk, b, new byte[] {1});
            hmm4j.kernel.mm.Page pinned = PhysMem.of(kk).pfnToPage(Pte.pfn(pte(mm, b)));
            pinned.get();
            assertEquals(-11, Madvise.madvise(mm, b, HPAGE, Madvise.MADV_COLLAPSE), "a pinned page: -EAGAIN");
            pinned.put();
            assertEquals(0, Madvise.madvise(mm, b, HPAGE, Madvise.MADV_NOHUGEPAGE));
            assertEquals(-22, Madvise.madvise(mm, b, HPAGE, Madvise.MADV_COLLAPSE), "VM_NOHUGEPAGE: -EINVAL");
            assertEquals(0, Mmap.munmap(mm, a, HPAGE));
            assertEquals(0, Mmap.munmap(mm, b, HPAGE));
        });
        assertNothingAllocated(k);
    }
}
