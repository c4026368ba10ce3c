package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.assertNothingAllocated;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.insertVma;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.vmas;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.SwapSpace;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.sim.Kernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code madvise(MADV_DONTNEED)}: the zap of the range, one {@code MMU_NOTIFY_CLEAR}
 * invalidation per VMA over its intersection with the range, holes, and the error codes.
 */
class MadviseTest {

    private static final String CLEAR = "MMU_NOTIFY_CLEAR";
    private static final int DONTNEED = Madvise.MADV_DONTNEED;

    @Test
    void dontneed_freesTheAnonymousPages_withOneClearOverExactlyTheRange_andTheyReadBackAsZeros() {
        Kernel k = inProcess(41, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            write(kk, a, pattern((int) (4 * PAGE), 1));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(0, Madvise.madvise(mm, a + PAGE, 2 * PAGE, DONTNEED));

            assertEquals(List.of(start(CLEAR, a + PAGE, a + 3 * PAGE, true), end(CLEAR, a + PAGE, a + 3 * PAGE)),
                    ops.events());
            assertEquals(used - 2, PhysMem.of(kk).usedPages(), "the two pages were freed");
            assertTrue(Pte.isNone(pte(mm, a + PAGE)) && Pte.isNone(pte(mm, a + 2 * PAGE)));
            assertTrue(Pte.isPresent(pte(mm, a)) && Pte.isPresent(pte(mm, a + 3 * PAGE)));
            assertEquals(1, vmas(mm).size(), "the mapping stays");
            assertArrayEquals(new byte[(int) (2 * PAGE)], read(kk, a + PAGE, (int) (2 * PAGE)), "zero-fill");
            byte[] all = pattern((int) (4 * PAGE), 1);
            byte[] first = new byte[(int) PAGE];
            System.arraycopy(all, 0, first, 0, first.length);
            assertArrayEquals(first, read(kk, a, (int) PAGE), "outside the range nothing changed");
        });
        assertNothingAllocated(k);
    }

    @Test
    void aRangeWithAHole_isAppliedToTheMappedParts_oneClearPerVma_andReturnsEnomem() {
        inProcess(42, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 5, RW);
            assertEquals(0, Mmap.munmap(mm, a + 2 * PAGE, PAGE));
            write(kk, a, pattern((int) (2 * PAGE), 2));
            write(kk, a + 3 * PAGE, pattern((int) (2 * PAGE), 3));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(-Errno.ENOMEM, Madvise.madvise(mm, a, 5 * PAGE, DONTNEED));

            assertEquals(List.of(start(CLEAR, a, a + 2 * PAGE, true), end(CLEAR, a, a + 2 * PAGE),
                    start(CLEAR, a + 3 * PAGE, a + 5 * PAGE, true), end(CLEAR, a + 3 * PAGE, a + 5 * PAGE)),
                    ops.events());
            assertEquals(used - 4, PhysMem.of(kk).usedPages());

            ops.clear();
            assertEquals(-Errno.ENOMEM, Madvise.madvise(mm, a + 2 * PAGE, 2 * PAGE, DONTNEED), "leading hole");
            assertEquals(List.of(start(CLEAR, a + 3 * PAGE, a + 4 * PAGE, true),
                    end(CLEAR, a + 3 * PAGE, a + 4 * PAGE)), ops.events());
        });
    }

    @Test
    void aWhollyUnmappedRange_isEnomemWithoutInvalidation() {
        inProcess(43, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            assertEquals(0, Mmap.munmap(mm, a, 2 * PAGE));
            ops.clear();
            assertEquals(-Errno.ENOMEM, Madvise.madvise(mm, a, 2 * PAGE, DONTNEED),
                    "no VMA left at or above the start");
            assertEquals(-Errno.ENOMEM, Madvise.madvise(mm, Pte.TASK_SIZE - PAGE, PAGE, DONTNEED), "no VMA above");
            assertEquals(List.of(), ops.events());
        });
    }

    @Test
    void argumentErrors() {
        inProcess(44, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, new byte[] {1});
            ops.clear();
            assertEquals(-Errno.EINVAL, Madvise.madvise(mm, a, PAGE, 18), "MADV_WIPEONFORK is not modelled");
            assertEquals(-Errno.EINVAL, Madvise.madvise(mm, a, PAGE, 0), "MADV_NORMAL neither");
            assertEquals(-Errno.EINVAL, Madvise.madvise(mm, a + 1, PAGE, DONTNEED), "unaligned");
            assertEquals(-Errno.EINVAL, Madvise.madvise(mm, a, -1, DONTNEED), "length rounds up past the top");
            assertEquals(-Errno.EINVAL, Madvise.madvise(mm, a, -2 * PAGE, DONTNEED), "range wraps");
            assertEquals(0, Madvise.madvise(mm, a, 0, DONTNEED), "empty range");
            assertEquals(List.of(), ops.events());
            assertTrue(Pte.isPresent(pte(mm, a)), "nothing was zapped");
        });
    }

    @Test
    void aLockedVma_isEinval_afterTheVmasBeforeItWereDone() {
        inProcess(45, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            assertEquals(0, Mmap.munmap(mm, a + PAGE, PAGE));
            insertVma(mm, Vma.anonymous(a + PAGE, a + 2 * PAGE, VmFlags.VM_READ | VmFlags.VM_WRITE
                    | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_LOCKED));
            write(kk, a, pattern((int) (2 * PAGE), 5));
            ops.clear();
            assertEquals(-Errno.EINVAL, Madvise.madvise(mm, a, 2 * PAGE, DONTNEED));
            assertEquals(List.of(start(CLEAR, a, a + PAGE, true), end(CLEAR, a, a + PAGE)), ops.events());
            assertTrue(Pte.isNone(pte(mm, a)));
            assertTrue(Pte.isPresent(pte(mm, a + PAGE)), "the locked page stays");
        });
    }

    @Test
    void dontneedOverSwapEntries_freesTheirSlots() {
        Kernel k = inProcess(46, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 3, RW);
            write(kk, a, pattern((int) (3 * PAGE), 6));
            assertEquals(3, Vmscan.reclaimAnon(mm, a, a + 3 * PAGE));
            assertEquals(3, SwapSpace.of(kk).usedSlots());
            assertEquals(0, Madvise.madvise(mm, a, 2 * PAGE, DONTNEED));
            assertEquals(1, SwapSpace.of(kk).usedSlots(), "two slots freed by the zap");
            assertTrue(Pte.isSwap(pte(mm, a + 2 * PAGE)));
            assertArrayEquals(new byte[8], read(kk, a, 8));
        });
        assertNothingAllocated(k);
    }

    @Test
    void dontneedOnASharedMapping_onlyUnmaps_theDataStaysInThePageCache() {
        inProcess(47, (kk, self, mm, ops) -> {
            long a = Mmap.mmap(mm, 0, 2 * PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            write(kk, a, pattern(100, 7));
            long used = PhysMem.of(kk).usedPages();
            assertEquals(0, Madvise.madvise(mm, a, 2 * PAGE, DONTNEED));
            assertTrue(Pte.isNone(pte(mm, a)));
            assertEquals(used, PhysMem.of(kk).usedPages(), "the page cache keeps the page");
            assertArrayEquals(pattern(100, 7), read(kk, a, 100));
        });
    }
}
