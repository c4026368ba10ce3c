package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.EBUSY;
import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.RW;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.api.Test;

/**
 * What mutation testing left unchecked in {@link Hmm}, {@link HmmRange} and {@link HmmPfn}:
 * the two coverage marks of {@code hmm_range_fault} (restart only after a fault, busy only
 * on a changed sequence), its {@code mmap_assert_locked}, the inclusive bounds of the user
 * address space in a range, and the order field's encoding.
 */
class HmmMutantsTest {

    @Test
    void aWalkThatFaults_marksTheRestart_andNotBusy() {
        RunResult r = HmmBed.run(checkedKernel(1), bed -> {
            bed.vma(BASE, 2, RW);
            HmmRange range = bed.range(BASE, 2, REQ_FAULT, 0, null);
            assertEquals(0, bed.fault(range));
        });
        assertClean(r);
        assertTrue(r.hit(Hmm.RANGE_FAULT_RESTART), r.marks()::toString);
        assertFalse(r.hit(Hmm.RANGE_FAULT_BUSY), r.marks()::toString);
    }

    @Test
    void aWalkOfPresentPages_doesNotMarkARestart() {
        RunResult r = HmmBed.run(checkedKernel(2), bed -> {
            bed.vma(BASE, 2, RW);
            bed.anonPage(BASE, true);
            bed.anonPage(BASE + PAGE, true);
            HmmRange range = bed.range(BASE, 2, REQ_FAULT, 0, null);
            assertEquals(0, bed.fault(range));
        });
        assertClean(r);
        assertFalse(r.hit(Hmm.RANGE_FAULT_RESTART), r.marks()::toString);
    }

    @Test
    void aSequenceChangedBeforeTheCall_answersEbusy_andMarksBusy() {
        RunResult r = HmmBed.run(checkedKernel(3), bed -> {
            bed.vma(BASE, 1, RW);
            bed.vma(BASE + 8 * PAGE, 1, RW);
            bed.anonPage(BASE + 8 * PAGE, true);
            HmmRange range = bed.range(BASE, 1, REQ_FAULT, 0, null);
            range.setNotifierSeq(bed.sub.mmuIntervalReadBegin());
            int before = bed.invalidations();
            Mmap.munmap(bed.mm, BASE + 8 * PAGE, PAGE);
            assertTrue(bed.invalidations() > before, "the unmap invalidated the subscription");
            bed.mm.mmapReadLock();
            assertEquals(EBUSY, Hmm.hmmRangeFault(range));
            bed.mm.mmapReadUnlock();
        });
        assertClean(r);
        assertTrue(r.hit(Hmm.RANGE_FAULT_BUSY), r.marks()::toString);
    }

    @Test
    void hmmRangeFault_withoutTheMmapLock_isReported_evenForAnEmptyRange() {
        // An empty range never reaches find_vma (whose own assertion would catch a page).
        RunResult r = HmmBed.run(checkedKernel(4), bed -> {
            HmmRange range = bed.range(BASE, 0, REQ_FAULT, 0, null);
            range.setNotifierSeq(bed.sub.mmuIntervalReadBegin());
            Hmm.hmmRangeFault(range);
        });
        Failure f = r.firstFailure().orElseThrow();
        assertTrue(f.toString().contains("mmap_assert_locked"), f::toString);
    }

    @Test
    void theFirstAndLastUserPages_areAcceptedBounds() {
        MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
        assertEquals(0, new HmmRange(sub, 0, PAGE, new long[1], 0, 0, null).start());
        assertEquals(Pte.TASK_SIZE, new HmmRange(sub, Pte.TASK_SIZE - PAGE, Pte.TASK_SIZE, new long[1], 0, 0, null).end());
    }

    @Test
    void theOrderField_isFiveBitsAtTheOrderShift() {
        assertEquals(9L << HmmPfn.HMM_PFN_ORDER_SHIFT, HmmPfn.hmmPfnFlagsOrder(9));
        assertEquals(9, HmmPfn.hmmPfnToMapOrder(HmmPfn.hmmPfnFlagsOrder(9) | 0x2a));
        assertEquals(1L << HmmPfn.HMM_PFN_ORDER_SHIFT, HmmPfn.hmmPfnFlagsOrder(33), "only five bits are kept");
        assertEquals(0, HmmPfn.pfn(HmmPfn.hmmPfnFlagsOrder(31)));
    }
}
