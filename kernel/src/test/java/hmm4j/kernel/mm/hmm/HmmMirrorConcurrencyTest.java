package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * I-16 under concurrency, on the controlled runtime over 200 fixed seeds: a device-fault
 * worker runs the driver loop of kernel-spec §3.6 three times over four pages while the
 * process COWs one page, write-protects another and unmaps a third. After every operation,
 * after every programming and at the end, the mirror must hold no device entry that
 * disagrees with the CPU page table. The same scenario with a mirror that skips
 * {@code mmu_interval_read_retry}, or that never calls {@code mmu_interval_set_seq}, must be
 * caught on some seed of the same set — the test can fail.
 */
class HmmMirrorConcurrencyTest {

    private static final int SEEDS = 200;
    private static final long BASE = 0x2000_0000L;

    /** What one run produced. */
    private record Outcome(RunResult result, int retries, int programmed, List<Integer> faults) {
    }

    private static Outcome scenario(long seed, TestMirror.Flaw flaw) {
        Kernel k = checkedKernel(seed);
        TestMirror mirror = new TestMirror(k, flaw);
        List<Integer> faults = new ArrayList<>();
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "app", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmap(mm, BASE, 4 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0);
            assertEquals(BASE, base);
            byte[] one = {1};
            assertEquals(0, UserAccess.copyToUser(k, base, one));
            assertEquals(0, UserAccess.copyFromUser(k, new byte[1], base + PAGE), "page 1 maps the zero page");
            assertEquals(0, UserAccess.copyToUser(k, base + 2 * PAGE, one));
            assertEquals(0, UserAccess.copyToUser(k, base + 3 * PAGE, one));
            assertEquals(0, mirror.sub.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, mirror));
            Task gpu = k.spawnKthread("gpu-fault", w -> {
                for (int round = 0; round < 3; round++) {
                    faults.add(mirror.deviceFault(mm, base, 4, REQ_FAULT));
                }
            });
            assertEquals(0, UserAccess.copyToUser(k, base + PAGE, one), "COW of the zero page");
            mirror.checkAgainstCpu(mm, "after the COW");
            assertEquals(0, Mprotect.mprotect(mm, base + 2 * PAGE, PAGE, Mmap.PROT_READ));
            mirror.checkAgainstCpu(mm, "after mprotect");
            assertEquals(0, Mmap.munmap(mm, base + 3 * PAGE, PAGE));
            mirror.checkAgainstCpu(mm, "after munmap");
            gpu.join();
            mirror.checkAgainstCpu(mm, "at the end");
            mirror.sub.mmuIntervalNotifierRemove();
            finished.set(true);
        });
        RunResult r = k.run();
        if (r.clean()) {
            assertTrue(finished.get(), "seed " + seed + ": the process ran to its end");
        }
        return new Outcome(r, mirror.retries(), mirror.programmed(), faults);
    }

    @Test
    void correctMirror_neverHoldsAStaleEntry() {
        int retries = 0;
        int programmed = 0;
        int failedFaults = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            Outcome o = scenario(seed, TestMirror.Flaw.NONE);
            assertTrue(o.result().clean(), () -> "expected a clean run, got " + describe(o.result()));
            assertEquals(3, o.faults().size());
            for (int ret : o.faults()) {
                assertTrue(ret == 0 || ret == -Errno.EFAULT, "seed " + seed + ": " + ret);
                failedFaults += ret == 0 ? 0 : 1;
            }
            retries += o.retries();
            programmed += o.programmed();
        }
        assertTrue(retries > 0, "some seeds collided and retried");
        assertTrue(programmed > 0, "the device was programmed");
        assertTrue(failedFaults > 0, "some faults met the unmapped page");
    }

    @Test
    void mirrorSkippingReadRetry_isCaughtOnSomeSeed() {
        assertCaught(TestMirror.Flaw.SKIPS_READ_RETRY);
    }

    @Test
    void mirrorNotSettingTheSequence_isCaughtOnSomeSeed() {
        assertCaught(TestMirror.Flaw.SKIPS_SET_SEQ);
    }

    private static void assertCaught(TestMirror.Flaw flaw) {
        int caught = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            RunResult r = scenario(seed, flaw).result();
            if (r.clean()) {
                continue;
            }
            assertEquals(1, r.failures().size(), () -> describe(r));
            var f = assertInstanceOf(Failure.InvariantViolation.class, r.failures().get(0), () -> describe(r));
            if (!f.rule().equals(TestMirror.RULE)) {
                fail("seed " + seed + " failed for another reason: " + describe(r));
            }
            caught++;
        }
        assertFalse(caught == 0, flaw + " was never caught in " + SEEDS + " seeds");
    }
}
