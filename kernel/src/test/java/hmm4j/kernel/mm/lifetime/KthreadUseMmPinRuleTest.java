package hmm4j.kernel.mm.lifetime;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Kthread;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The {@code kthread_use_mm} rule (kernel-spec §1.7, I-3/I-4): an {@code mmgrab} pin is not
 * enough to touch the address space; the worker must hold {@code mm_users}
 * ({@code mmget_not_zero}) for the use/unuse window. The model reports the violation even
 * on schedules where the process is still alive.
 */
class KthreadUseMmPinRuleTest {

    private static final long[] SEEDS = {1, 2, 3, 99, 2024};

    private static byte[] pattern() {
        byte[] p = new byte[64];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) (0x5a ^ i);
        }
        return p;
    }

    /**
     * A process maps and fills a page, pins its mm on behalf of a device ({@code mmgrab}),
     * starts a worker and waits until the worker is done before it exits. The worker takes
     * an {@code mm_users} reference first if {@code mmgetFirst}.
     */
    private static void spawnProcessAndWorker(Kernel k, boolean mmgetFirst, AtomicReference<MmStruct> mmRef,
                                              List<Object> results) {
        byte[] pattern = pattern();
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            mmRef.set(mm);
            long addr = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
            assertFalse(Errno.isError(addr));
            assertEquals(0, UserAccess.copyToUser(k, addr, pattern));
            RefHandle device = new RefHandle("device");
            mm.mmgrabAs(device);
            Completion done = new Completion(k, "worker done");
            k.spawnKthread("worker", w -> {
                boolean pinned = false;
                if (mmgetFirst) {
                    pinned = mm.mmgetNotZero();
                    results.add(pinned);
                }
                if (!mmgetFirst || pinned) {
                    Kthread.kthreadUseMm(mm);
                    byte[] buf = new byte[pattern.length];
                    results.add(UserAccess.copyFromUser(k, buf, addr));
                    results.add(buf);
                    Kthread.kthreadUnuseMm(mm);
                }
                if (pinned) {
                    mm.mmput();
                }
                mm.mmdropAs(device);
                done.complete();
            });
            done.waitForCompletion();
            assertEquals(MmState.LIVE, mm.mmState());
        });
    }

    @Test
    void mmgrabOnly_copyFromUser_isUnpinnedUse_evenWhileTheProcessIsAlive() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            AtomicReference<MmStruct> mm = new AtomicReference<>();
            List<Object> results = new ArrayList<>();
            spawnProcessAndWorker(k, false, mm, results);
            RunResult r = k.run();
            Failure.UnpinnedAddressSpaceUse f = assertSingleFailure(r, Failure.UnpinnedAddressSpaceUse.class);
            assertEquals("mm#1", f.mm());
            assertEquals("copy_from_user", f.operation());
            assertTrue(f.mmState().startsWith("LIVE"), "seed " + seed + ": the process was waiting: " + f.mmState());
            assertEquals("worker", f.site().task());
            assertEquals("process", f.holders(), "only the process holds mm_users");
            assertTrue(results.isEmpty(), "the copy never completed");
            assertEquals(MmState.LIVE, mm.get().mmState());
        }
    }

    @Test
    void mmgetNotZeroHeld_copyFromUser_isCleanAndReadsTheProcessData() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            AtomicReference<MmStruct> mm = new AtomicReference<>();
            List<Object> results = new ArrayList<>();
            spawnProcessAndWorker(k, true, mm, results);
            assertClean(k.run());
            assertEquals(3, results.size(), "seed " + seed);
            assertEquals(true, results.get(0));
            assertEquals(0, results.get(1));
            assertArrayEquals(pattern(), (byte[]) results.get(2));
            assertEquals(MmState.FREED, mm.get().mmState(), "every pin was dropped");
        }
    }

    @Test
    void mmgetNotZero_racingWithExit_eitherCopiesOrSeesADeadMm_neverUnpinned() {
        byte[] pattern = pattern();
        for (long seed = 100; seed < 130; seed++) {
            Kernel k = checkedKernel(seed);
            List<String> outcome = new ArrayList<>();
            Process.spawn(k, "process", self -> {
                MmStruct mm = MmStruct.of(self);
                long addr = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
                assertEquals(0, UserAccess.copyToUser(k, addr, pattern));
                RefHandle device = new RefHandle("device");
                mm.mmgrabAs(device);
                k.spawnKthread("worker", w -> {
                    if (mm.mmgetNotZero()) {
                        Kthread.kthreadUseMm(mm);
                        byte[] buf = new byte[pattern.length];
                        int ret = UserAccess.copyFromUser(k, buf, addr);
                        Kthread.kthreadUnuseMm(mm);
                        mm.mmput();
                        assertEquals(0, ret);
                        assertArrayEquals(pattern, buf);
                        outcome.add("copied");
                    } else {
                        assertEquals(0, mm.mmUsersPeek());
                        outcome.add("dead");
                    }
                    mm.mmdropAs(device);
                });
            });
            assertClean(k.run());
            assertEquals(1, outcome.size(), "seed " + seed);
        }
    }

    @Test
    void kthreadUseMmFromAUserTask_isAWarn() {
        Kernel k = checkedKernel(4);
        Process.spawn(k, "process", self -> Kthread.kthreadUseMm(MmStruct.of(self)));
        RunResult r = k.run();
        Failure.InvariantViolation v = assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(KernelRules.KTHREAD_USE_MM, v.rule());
        assertTrue(v.detail().contains("PF_KTHREAD"), v.detail());
        assertTrue(v.detail().contains("not a kernel thread"), v.detail());
        assertEquals("process", v.site().task());
    }
}
