package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.vmas;
import static org.junit.jupiter.api.Assertions.assertEquals;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Ksm;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.VmFlags;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The walk both KSM advices share ({@code madvise_walk_vmas}): every VMA of the range clipped to
 * it and split at the range's edges, the mapped parts done before a hole answers
 * {@code -ENOMEM}, and a zero length doing nothing.
 */
class KsmMadviseWalkTest {

    /** The VMAs of {@code mm} as "[first page, end page) M|-" relative to {@code base}. */
    private static List<String> layout(MmStruct mm, long base) {
        return vmas(mm).stream().map((Vma v) -> "[" + (v.vmStart() - base) / PAGE + "," + (v.vmEnd() - base) / PAGE
                + ")" + (v.hasAny(VmFlags.VM_MERGEABLE) ? "M" : "-")).toList();
    }

    @Test
    void mergeableThenUnmergeable_overAHole_doTheMappedPiecesSplitAtTheEdges_thenAnswerEnomem() {
        inProcess(31, (k, self, mm, ops) -> {
            long a = mapAnon(mm, 10, RW);
            assertEquals(0, Mmap.munmap(mm, a + 4 * PAGE, PAGE));
            assertEquals(List.of("[0,4)-", "[5,10)-"), layout(mm, a));

            assertEquals(-Errno.ENOMEM, Madvise.madvise(mm, a + PAGE, 6 * PAGE, Ksm.MADV_MERGEABLE));
            assertEquals(List.of("[0,1)-", "[1,4)M", "[5,7)M", "[7,10)-"), layout(mm, a));

            assertEquals(-Errno.ENOMEM, Madvise.madvise(mm, a + 2 * PAGE, 4 * PAGE, Ksm.MADV_UNMERGEABLE));
            assertEquals(List.of("[0,1)-", "[1,2)M", "[2,4)-", "[5,6)-", "[6,7)M", "[7,10)-"), layout(mm, a));

            assertEquals(0, Madvise.madvise(mm, a, 4 * PAGE, Ksm.MADV_MERGEABLE), "no hole");
            assertEquals(List.of("[0,4)M", "[5,6)-", "[6,7)M", "[7,10)-"), layout(mm, a), "merged back");
        });
    }

    @Test
    void aZeroLength_doesNothing_evenInsideAVma() {
        inProcess(32, (k, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            assertEquals(0, Madvise.madvise(mm, a + PAGE, 0, Ksm.MADV_MERGEABLE));
            assertEquals(List.of("[0,4)-"), layout(mm, a));
            assertEquals(0, Madvise.madvise(mm, a, 4 * PAGE, Ksm.MADV_MERGEABLE));
            assertEquals(0, Madvise.madvise(mm, a + 2 * PAGE, 0, Ksm.MADV_UNMERGEABLE));
            assertEquals(List.of("[0,4)M"), layout(mm, a));
            assertEquals(-Errno.EINVAL, Madvise.madvise(mm, a + 1, 0, Ksm.MADV_MERGEABLE), "the address is checked first");
        });
    }
}
