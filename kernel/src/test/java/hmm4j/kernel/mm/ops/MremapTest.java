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
import static hmm4j.kernel.mm.ops.MmHarness.setPte;
import static hmm4j.kernel.mm.ops.MmHarness.vmaAt;
import static hmm4j.kernel.mm.ops.MmHarness.vmas;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static hmm4j.kernel.mm.Mremap.MREMAP_DONTUNMAP;
import static hmm4j.kernel.mm.Mremap.MREMAP_FIXED;
import static hmm4j.kernel.mm.Mremap.MREMAP_MAYMOVE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mremap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.SwapSpace;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.sim.Kernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code mremap}: moves with {@code MREMAP_MAYMOVE}, {@code MREMAP_FIXED} and
 * {@code MREMAP_DONTUNMAP}, in-place growth and shrinking, the {@code MMU_NOTIFY_UNMAP}
 * invalidations the kernel sends (the move of the source range, the munmap of the destination
 * and of the source), that entries keep their pages, and the error codes.
 */
class MremapTest {

    private static final String UNMAP = "MMU_NOTIFY_UNMAP";

    @Test
    void fixedMove_movesTheEntriesWithTheirPages_andSendsUnmapForTheMoveThenForTheSourceMunmap() {
        Kernel k = inProcess(41, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 8, RW);
            assertEquals(0, Mmap.munmap(mm, a + 4 * PAGE, 4 * PAGE));
            write(kk, a, pattern((int) (2 * PAGE), 5));
            long pfn0 = Pte.pfn(pte(mm, a));
            long pfn1 = Pte.pfn(pte(mm, a + PAGE));
            long used = PhysMem.of(kk).usedPages();
            long pgoff = vmaAt(mm, a).linearPageIndex(a);
            ops.clear();

            long to = a + 5 * PAGE;
            assertEquals(to, Mremap.mremap(mm, a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to));

            assertEquals(List.of(start(UNMAP, a, a + 2 * PAGE, true), end(UNMAP, a, a + 2 * PAGE),
                    start(UNMAP, a, a + 2 * PAGE, true), end(UNMAP, a, a + 2 * PAGE)), ops.events(),
                    "nothing was mapped at the destination: no munmap there");
            assertEquals(pfn0, Pte.pfn(pte(mm, to)), "the same page, at the new address");
            assertEquals(pfn1, Pte.pfn(pte(mm, to + PAGE)));
            assertTrue(Pte.isWrite(pte(mm, to)));
            assertEquals(0, pte(mm, a));
            assertEquals(used, PhysMem.of(kk).usedPages(), "nothing copied, nothing freed");
            assertArrayEquals(pattern((int) (2 * PAGE), 5), read(kk, to, (int) (2 * PAGE)));
            assertEquals(-Errno.EFAULT, UserAccess.copyFromUser(kk, new byte[1], a), "the source is unmapped");
            Vma moved = vmaAt(mm, to);
            assertEquals(to, moved.vmStart());
            assertEquals(to + 2 * PAGE, moved.vmEnd());
            assertEquals(pgoff, moved.pgoff(), "the moved VMA keeps the pgoff of the part it took");
        });
        assertNothingAllocated(k);
    }

    @Test
    void fixedMoveOntoAMapping_unmapsTheDestinationFirst() {
        inProcess(42, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            long b = mapAnon(mm, 2, RW);
            write(kk, a, pattern((int) PAGE, 1));
            write(kk, b, pattern((int) (2 * PAGE), 2));
            long usedBefore = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(b, Mremap.mremap(mm, a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, b));

            assertEquals(List.of(start(UNMAP, b, b + PAGE, true), end(UNMAP, b, b + PAGE),
                    start(UNMAP, a, a + PAGE, true), end(UNMAP, a, a + PAGE),
                    start(UNMAP, a, a + PAGE, true), end(UNMAP, a, a + PAGE)), ops.events());
            assertArrayEquals(pattern((int) PAGE, 1), read(kk, b, (int) PAGE), "the moved page");
            assertArrayEquals(java.util.Arrays.copyOfRange(pattern((int) (2 * PAGE), 2), (int) PAGE, (int) (2 * PAGE)),
                    read(kk, b + PAGE, (int) PAGE), "b's second page is untouched");
            assertEquals(usedBefore - 1, PhysMem.of(kk).usedPages(), "the destination's old page was freed");
        });
    }

    @Test
    void dontUnmap_keepsTheSourceVmaEmpty_whichFaultsInZeroPages_withOneUnmapInvalidation() {
        inProcess(43, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, pattern((int) (2 * PAGE), 3));
            ops.clear();

            long to = Mremap.mremap(mm, a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);

            assertTrue(!Errno.isError(to) && to != a, "moved to a new address: " + to);
            assertEquals(List.of(start(UNMAP, a, a + 2 * PAGE, true), end(UNMAP, a, a + 2 * PAGE)), ops.events(),
                    "only the move: the source is not unmapped");
            assertArrayEquals(pattern((int) (2 * PAGE), 3), read(kk, to, (int) (2 * PAGE)));
            assertEquals(a, vmaAt(mm, a).vmStart(), "the source VMA stays");
            assertEquals(0, pte(mm, a));
            assertArrayEquals(new byte[(int) PAGE], read(kk, a, (int) PAGE), "a fresh zero page");
        });
    }

    @Test
    void growingInPlace_extendsTheVma_andMayMoveMovesWhenTheSpaceAboveIsTaken() {
        inProcess(44, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            assertEquals(0, Mmap.munmap(mm, a + 2 * PAGE, 2 * PAGE));
            write(kk, a, pattern((int) (2 * PAGE), 4));
            ops.clear();
            assertEquals(a, Mremap.mremap(mm, a, 2 * PAGE, 3 * PAGE, 0, 0));
            assertEquals(List.of(), ops.events(), "growing in place moves nothing");
            assertEquals(a + 3 * PAGE, vmaAt(mm, a).vmEnd());
            assertEquals(1, vmas(mm).stream().filter(v -> v.vmStart() <= a && v.vmEnd() > a).count());

            long blocker = Mmap.mmap(mm, a + 3 * PAGE, PAGE, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS
                    | Mmap.MAP_FIXED, null, 0);
            assertEquals(a + 3 * PAGE, blocker);
            assertEquals(-Errno.ENOMEM, Mremap.mremap(mm, a, 3 * PAGE, 4 * PAGE, 0, 0), "no room and no MAYMOVE");
            long to = Mremap.mremap(mm, a, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE, 0);
            assertTrue(!Errno.isError(to) && to != a, "moved: " + to);
            assertEquals(to + 4 * PAGE, vmaAt(mm, to).vmEnd());
            assertArrayEquals(pattern((int) (2 * PAGE), 4), read(kk, to, (int) (2 * PAGE)));
        });
    }

    @Test
    void shrinking_unmapsTheTailInPlace() {
        inProcess(45, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            write(kk, a, pattern((int) (4 * PAGE), 6));
            ops.clear();
            assertEquals(a, Mremap.mremap(mm, a, 4 * PAGE, PAGE, 0, 0));
            assertEquals(List.of(start(UNMAP, a + PAGE, a + 4 * PAGE, true), end(UNMAP, a + PAGE, a + 4 * PAGE)),
                    ops.events());
            assertEquals(a + PAGE, vmaAt(mm, a).vmEnd());
            assertEquals(0, pte(mm, a + PAGE));
        });
    }

    @Test
    void errorCodes_asTheKernelReturnsThem_andNothingChangesOnAnError() {
        inProcess(46, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            write(kk, a, pattern((int) (4 * PAGE), 7));
            long unmapped = a + 64 * PAGE;
            ops.clear();
            assertEquals(-Errno.EINVAL, Mremap.mremap(mm, a, PAGE, PAGE, 8, 0), "unknown flag");
            assertEquals(-Errno.EINVAL, Mremap.mremap(mm, a + 1, PAGE, PAGE, 0, 0), "unaligned address");
            assertEquals(-Errno.EINVAL, Mremap.mremap(mm, a, PAGE, 0, 0, 0), "zero new length");
            assertEquals(-Errno.EINVAL, Mremap.mremap(mm, a, PAGE, PAGE, MREMAP_FIXED, unmapped), "FIXED without MAYMOVE");
            assertEquals(-Errno.EINVAL, Mremap.mremap(mm, a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, unmapped + 1),
                    "unaligned new address");
            assertEquals(-Errno.EINVAL, Mremap.mremap(mm, a, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0),
                    "DONTUNMAP with a resize");
            assertEquals(-Errno.EINVAL, Mremap.mremap(mm, a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                    a + PAGE), "overlapping source and destination");
            assertEquals(-Errno.EINVAL, Mremap.mremap(mm, a, 0, PAGE, MREMAP_MAYMOVE, 0),
                    "duplicating a private mapping");
            assertEquals(-Errno.EFAULT, Mremap.mremap(mm, unmapped, PAGE, PAGE, 0, 0), "no VMA at the address");
            assertEquals(-Errno.EFAULT, Mremap.mremap(mm, a, 5 * PAGE, 5 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                    unmapped), "the range crosses the VMA's end");
            assertEquals(List.of(), ops.events(), "no error changed anything");
            assertArrayEquals(pattern((int) (4 * PAGE), 7), read(kk, a, (int) (4 * PAGE)));
            assertEquals(0, pte(mm, unmapped));
        });
    }

    @Test
    void swapEntries_moveWithTheirSlots_andSwapInAtTheNewAddress() {
        Kernel k = inProcess(48, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, pattern((int) (2 * PAGE), 8));
            assertEquals(2, Vmscan.reclaimAnon(mm, a, a + 2 * PAGE));
            assertTrue(Pte.isSwap(pte(mm, a)));
            long to = a + 16 * PAGE;
            assertEquals(to, Mremap.mremap(mm, a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to));
            assertTrue(Pte.isSwap(pte(mm, to)) && Pte.isSwap(pte(mm, to + PAGE)), "moved as they are");
            assertEquals(2, SwapSpace.of(kk).usedSlots(), "the slots keep their one user each");
            assertArrayEquals(pattern((int) (2 * PAGE), 8), read(kk, to, (int) (2 * PAGE)), "swapped in");
        });
        assertNothingAllocated(k);
    }

    @Test
    void aThpInTheRange_isSplitWithOneClear_thenMovedAsPtes_withItsData() {
        Kernel k = inProcess(47, (kk, self, mm, ops) -> {
            long nr = HugeMemory.HPAGE_PMD_NR;
            long raw = mapAnon(mm, 4 * nr, RW);
            long a = (raw + Pte.PMD_SIZE - 1) & Pte.PMD_MASK;
            assertEquals(0, Madvise.madvise(mm, a, Pte.PMD_SIZE, Madvise.MADV_HUGEPAGE));
            write(kk, a + 3 * PAGE, pattern(64, 9));
            assertTrue(Pte.isHuge(pte(mm, a)), "a THP");
            long head = Pte.pfn(pte(mm, a));
            ops.clear();
            long to = a + 2 * Pte.PMD_SIZE + 5 * PAGE;
            long len = Pte.PMD_SIZE;

            assertEquals(to, Mremap.mremap(mm, a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to));

            assertEquals(List.of(start("MMU_NOTIFY_CLEAR", a, a + len, true), end("MMU_NOTIFY_CLEAR", a, a + len)),
                    ops.events().subList(0, 2), "the split's CLEAR of the whole leaf first");
            assertTrue(ops.events().contains(start(UNMAP, a, a + len, true)), "then the move's UNMAP: " + ops.events());
            assertFalse(Pte.isHuge(pte(mm, to)), "moved as PTEs");
            assertEquals(head + 3, Pte.pfn(pte(mm, to + 3 * PAGE)), "the same pages");
            assertArrayEquals(pattern(64, 9), read(kk, to + 3 * PAGE, 64));
            assertEquals(0, Mmap.munmap(mm, to, len));
        });
        assertNothingAllocated(k);
    }
}
