package hmm4j.drivers.dmirror;

import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.testkit.UserMemory.pte;
import static hmm4j.testkit.UserProcess.inProcess;
import static hmm4j.testkit.UserProcess.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.testkit.RunAssertions;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code dmirror_do_fault} (lib/test_hmm.c) given what {@code hmm_range_fault} answered: a
 * write request answered with a read-only pfn is the driver's
 * {@code WARN_ON(range->default_flags & HMM_PFN_WRITE)} and {@code -EFAULT}; a read request
 * answered read-only is mirrored read-only. The outputs are handed in directly, as a broken
 * {@code hmm_range_fault} would return them.
 */
class DmirrorDoFaultTest {

    /** A one-page range at {@code a} whose output is the page's pfn, VALID, read-only. */
    private static HmmRange readOnlyAnswer(Dmirror dmirror, long a, long defaultFlags) {
        long pfn = Pte.pfn(pte(dmirror.mm(), a));
        long[] pfns = {HmmPfn.HMM_PFN_VALID | pfn};
        return new HmmRange(dmirror.notifier(), a, a + Pte.PAGE_SIZE, pfns, defaultFlags, 0, null);
    }

    @Test
    void aWriteRequestAnsweredReadOnly_isTheDriversWarn_andEfault() {
        AtomicInteger ret = new AtomicInteger(1);
        RunResult r = runProcess(21, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 1, RW);
            assertEquals(0, UserAccess.copyToUser(k, a, new byte[] {1}));
            HmmRange range = readOnlyAnswer(f.dmirror(), a, HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE);
            ret.set(DmirrorFault.dmirrorDoFault(f.dmirror(), range));
            f.close();
        });
        Failure.InvariantViolation v = RunAssertions.assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(KernelRules.RANGE_FAULT_MEETS_REQUEST, v.rule());
        assertTrue(v.detail().startsWith("WARN_ON(range->default_flags & HMM_PFN_WRITE)"), v.detail());
        assertEquals(1, ret.get(), "the run stops at its first report");
    }

    @Test
    void aReadRequestAnsweredReadOnly_isMirroredReadOnly() {
        AtomicInteger ret = new AtomicInteger(1);
        inProcess(22, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 1, RW);
            assertEquals(0, UserAccess.copyToUser(k, a, new byte[] {1}));
            HmmRange range = readOnlyAnswer(f.dmirror(), a, HmmPfn.HMM_PFN_REQ_FAULT);
            ret.set(DmirrorFault.dmirrorDoFault(f.dmirror(), range));
            assertEquals(1, f.dmirror().pt().size());
            f.close();
        });
        assertEquals(0, ret.get());
    }
}
