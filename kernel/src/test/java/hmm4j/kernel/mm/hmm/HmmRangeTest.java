package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import org.junit.jupiter.api.Test;

/** Construction of {@code struct hmm_range}: the misuses the model refuses, and the accessors. */
class HmmRangeTest {

    private final MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");

    @Test
    void construction_keepsTheCallersArrayAndFields() {
        long[] pfns = new long[3];
        Object owner = new Object();
        HmmRange r = new HmmRange(sub, BASE, BASE + 3 * PAGE, pfns, REQ_FAULT, REQ_WRITE, owner);
        assertSame(pfns, r.hmmPfns(), "written in place, never copied");
        assertSame(sub, r.notifier());
        assertSame(owner, r.devPrivateOwner());
        assertEquals(3, r.npages());
        assertEquals(2, r.index(BASE + 2 * PAGE));
        assertEquals(REQ_FAULT, r.defaultFlags());
        assertEquals(REQ_WRITE, r.pfnFlagsMask());
        r.setNotifierSeq(7);
        assertEquals(7, r.notifierSeq());
    }

    @Test
    void wrongArrayLength_isRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new HmmRange(sub, BASE, BASE + 3 * PAGE, new long[2], 0, 0, null));
        assertTrue(e.getMessage().contains("2 entries for a range of 3 pages"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new HmmRange(sub, BASE, BASE + PAGE, new long[4], 0, 0, null));
    }

    @Test
    void unalignedOrInvertedOrNonUserBounds_areRefused() {
        assertThrows(IllegalArgumentException.class, () -> new HmmRange(sub, BASE + 1, BASE + PAGE, new long[1], 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> new HmmRange(sub, BASE, BASE + PAGE - 1, new long[1], 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> new HmmRange(sub, BASE + PAGE, BASE, new long[0], 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> new HmmRange(sub, -PAGE, 0, new long[1], 0, 0, null));
        assertThrows(IllegalArgumentException.class,
                () -> new HmmRange(sub, Pte.TASK_SIZE, Pte.TASK_SIZE + PAGE, new long[1], 0, 0, null));
    }

    @Test
    void defaultFlagsOtherThanRequests_areRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> new HmmRange(sub, BASE, BASE + PAGE, new long[1], HmmPfn.HMM_PFN_ERROR, 0, null));
        assertThrows(IllegalArgumentException.class,
                () -> new HmmRange(sub, BASE, BASE + PAGE, new long[1], REQ_FAULT | 0x42, 0, null));
        new HmmRange(sub, BASE, BASE + PAGE, new long[1], REQ_WRITE, -1L, null);
    }

    @Test
    void missingNotifierOrArray_isRefused() {
        assertThrows(NullPointerException.class, () -> new HmmRange(null, BASE, BASE + PAGE, new long[1], 0, 0, null));
        assertThrows(NullPointerException.class, () -> new HmmRange(sub, BASE, BASE + PAGE, null, 0, 0, null));
    }

    @Test
    void anEmptyRange_isAcceptedAndTheWalkerAnswersEinval() {
        HmmBed.runClean(60, bed -> {
            HmmRange r = bed.range(BASE, 0, REQ_FAULT, 0, null);
            assertEquals(-Errno.EINVAL, bed.fault(r));
        });
    }

    @Test
    void aNotifierNeverInserted_isRefusedByHmmRangeFault() {
        HmmRange r = new HmmRange(sub, BASE, BASE + PAGE, new long[1], 0, 0, null);
        assertThrows(IllegalStateException.class, () -> Hmm.hmmRangeFault(r));
    }
}
