package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.RW;
import static hmm4j.kernel.mm.hmm.HmmBed.output;
import static hmm4j.kernel.mm.hmm.HmmBed.runClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Pte;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * kernel-spec §4.7 and I-21: {@code hmm_range_fault} needs the mmap lock (asserted) and an
 * {@code mm_users} pin (the pin rule), whoever calls it.
 */
class HmmCallingContextTest {

    /**
     * A driver worker calls {@code hmm_range_fault} on the process's mm while the process
     * waits for it; the worker pins the address space with {@code mmget_not_zero} or, wrongly,
     * only pins the structure with {@code mmgrab}.
     */
    private static RunResult workerFaults(long seed, boolean mmgetFirst, AtomicLong out) {
        return HmmBed.run(checkedKernel(seed), bed -> {
            bed.vma(BASE, 1, RW);
            long pte = Pte.mkPresent(bed.anonPage(BASE, true), true);
            Task worker = bed.k.spawnKthread("gpu-worker", self -> {
                if (mmgetFirst) {
                    assertTrue(bed.mm.mmgetNotZero());
                } else {
                    bed.mm.mmgrab();
                }
                HmmRange r = bed.range(BASE, 1, REQ_FAULT, 0, null);
                assertEquals(0, bed.fault(r));
                assertEquals(output(pte), r.hmmPfns()[0]);
                out.set(r.hmmPfns()[0]);
                if (mmgetFirst) {
                    bed.mm.mmput();
                } else {
                    bed.mm.mmdrop();
                }
            });
            worker.join();
        });
    }

    @Test
    void kthreadWithMmget_faultsTheProcessRange() {
        AtomicLong out = new AtomicLong();
        assertClean(workerFaults(90, true, out));
        assertTrue((out.get() & HmmBed.VALID) != 0);
    }

    @Test
    void kthreadWithOnlyMmgrab_isReportedAsAddressSpaceUsedWithoutMmget() {
        for (long seed : new long[] {91, 92, 93}) {
            RunResult r = workerFaults(seed, false, new AtomicLong());
            var f = assertSingleFailure(r, Failure.UnpinnedAddressSpaceUse.class);
            assertEquals("hmm_range_fault", f.operation());
            assertEquals("gpu-worker", f.site().task());
        }
    }

    @Test
    void callWithoutTheMmapLock_isReportedByMmapAssertLocked() {
        RunResult r = HmmBed.run(checkedKernel(94), bed -> {
            bed.vma(BASE, 1, RW);
            HmmRange range = bed.range(BASE, 1, REQ_FAULT, 0, null);
            range.setNotifierSeq(bed.sub.mmuIntervalReadBegin());
            Hmm.hmmRangeFault(range);
        });
        var f = assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, f.rule());
        assertTrue(f.detail().startsWith("mmap_assert_locked"), f.detail());
    }

    @Test
    void callUnderTheMmapWriteLock_isAllowed() {
        runClean(95, bed -> {
            bed.vma(BASE, 1, RW);
            HmmRange range = bed.range(BASE, 1, REQ_FAULT, 0, null);
            range.setNotifierSeq(bed.sub.mmuIntervalReadBegin());
            bed.mm.mmapWriteLock();
            int ret = Hmm.hmmRangeFault(range);
            bed.mm.mmapWriteUnlock();
            assertEquals(0, ret);
            assertTrue(Pte.isZero(bed.pte(BASE)));
        });
    }
}
