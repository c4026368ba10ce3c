package hmm4j.kernel.fs.aio;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.sched.Kthread;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * fs/aio.c: {@code io_submit} completing at once or later, {@code exit_aio} killing the
 * contexts, cancelling the active iocb and waiting for it before {@code exit_mmap}, and the
 * iocb as a teardown barrier for rule mm.pin. Each interleaving that matters is forced with
 * completions, so every seed runs the same order of the events the assertions name.
 */
class AioTest {
    private static final long[] SEEDS = {1, 2, 7, 42, 300};
    private static final int LENGTH = 16;

    /** A bed: a process that maps a page, sets up a context, submits one queued read and exits. */
    private static final class Bed {
        final Kernel k;
        final List<String> log = new CopyOnWriteArrayList<>();
        final AtomicReference<MmStruct> mm = new AtomicReference<>();
        final AtomicReference<Kiocb> iocb = new AtomicReference<>();
        final AtomicReference<Kioctx> ctx = new AtomicReference<>();
        final AtomicLong addr = new AtomicLong();
        final AtomicInteger submitted = new AtomicInteger();
        final Completion cancelled;
        final RefHandle grab = new RefHandle("test-grab");

        Bed(long seed, boolean queue, boolean grabMm) {
            k = checkedKernel(seed);
            cancelled = new Completion(k, "cancelled");
            MmuNotifier watcher = new MmuNotifier("watcher", new MmuNotifierOps() {
                @Override
                public void release(MmuNotifier subscription, MmStruct on) {
                    log.add("exit_mmap:release users=" + on.mmUsersPeek());
                }
            });
            hmm4j.sim.Task proc = Process.spawn(k, "proc", self -> {
                MmStruct m = MmStruct.of(self);
                mm.set(m);
                long a = Mmap.mmapAnonymous(m, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
                assertFalse(Errno.isError(a));
                addr.set(a);
                assertEquals(0, UserAccess.copyToUser(k, a, new byte[LENGTH]));
                assertEquals(0, watcher.register(m));
                if (grabMm) {
                    m.mmgrabAs(grab);
                }
                Kioctx c = Aio.ioSetup(m);
                ctx.set(c);
                submitted.set(Aio.ioSubmit(c, 77, (kiocb, userAddr, length) -> {
                    if (!queue) {
                        return length;
                    }
                    iocb.set(kiocb);
                    kiocb.kiocbSetCancelFn(x -> {
                        log.add("cancel users=" + mm.get().mmUsersPeek() + " phase=" + mm.get().exitPhase());
                        cancelled.complete();
                        return 0;
                    });
                    return -Errno.EIOCBQUEUED;
                }, a, LENGTH));
                if (!queue) {
                    List<IoEvent> events = Aio.ioGetevents(c);
                    log.add("events " + events);
                }
                log.add("exit");
            });
            k.spawnKthread("reaper", self -> {
                proc.join();
                watcher.unregister(mm.get());
            });
        }

        /** A worker that waits for the cancel (so: inside exit_aio), then runs {@code body}. */
        void workerAfterCancel(Runnable body) {
            k.spawnKthread("worker", self -> {
                cancelled.waitForCompletion();
                body.run();
            });
        }

        /** The worker's copy: declare the barrier, adopt the mm, write, drop it. */
        int copy() {
            return copy(true);
        }

        int copy(boolean declare) {
            if (declare) {
                iocb.get().declareTeardownBarrier(k.current());
            }
            Kthread.kthreadUseMm(mm.get());
            int r = UserAccess.copyToUser(k, addr.get(), new byte[] {9, 9, 9});
            Kthread.kthreadUnuseMm(mm.get());
            log.add("copy " + r + " users=" + mm.get().mmUsersPeek() + " phase=" + mm.get().exitPhase());
            return r;
        }
    }

    @Test
    void ioSubmit_completedAtOnce_postsTheEvent_exitDoesNotWait() {
        for (long seed : SEEDS) {
            Bed b = new Bed(seed, false, false);
            RunResult r = b.k.run();
            assertClean(r);
            assertEquals(1, b.submitted.get());
            assertEquals(List.of("events [IoEvent[data=77, res=16]]", "exit", "exit_mmap:release users=0"), b.log,
                    "seed " + seed);
            assertFalse(r.hit(Aio.KILL_WAITED_FOR_IOCB), "seed " + seed + ": nothing was in flight");
            assertTrue(b.ctx.get().isFreed(), "seed " + seed + ": exit_aio freed the context");
        }
    }

    @Test
    void exitAio_cancelsTheActiveIocb_andWaitsForItBeforeExitMmap() {
        for (long seed : SEEDS) {
            Bed b = new Bed(seed, true, false);
            AtomicInteger copied = new AtomicInteger(1);
            b.workerAfterCancel(() -> {
                copied.set(b.copy());
                b.log.add("complete");
                b.iocb.get().kiComplete(3);
            });
            RunResult r = b.k.run();
            assertClean(r);
            assertEquals(0, copied.get(), "seed " + seed + ": the address space was intact for the copy");
            assertEquals(List.of("exit", "cancel users=0 phase=EXIT_AIO", "copy 0 users=0 phase=EXIT_AIO", "complete",
                    "exit_mmap:release users=0"), b.log, "seed " + seed + ": exit_mmap only after the iocb completed");
            assertTrue(r.hit(Aio.KILL_CANCELLED_ACTIVE), "seed " + seed);
            assertTrue(r.hit(Aio.KILL_WAITED_FOR_IOCB), "seed " + seed);
            assertTrue(r.hit(MmStruct.TEARDOWN_BARRIER_ACCESS), "seed " + seed);
            assertTrue(b.iocb.get().isFreed() && b.ctx.get().isFreed(), "seed " + seed);
        }
    }

    @Test
    void accessAfterKiComplete_isUnpinned() {
        for (long seed : SEEDS) {
            Bed b = new Bed(seed, true, true);
            b.workerAfterCancel(() -> {
                b.iocb.get().declareTeardownBarrier(b.k.current());
                b.iocb.get().kiComplete(3);
                b.copy(false);
                b.mm.get().mmdropAs(b.grab);
            });
            RunResult r = b.k.run();
            Failure f = r.firstFailure().orElseThrow(() -> new AssertionError("seed " + seed + ": not found"));
            Failure.UnpinnedAddressSpaceUse u = assertInstanceOf(Failure.UnpinnedAddressSpaceUse.class, f, describe(r));
            assertEquals(SimRules.PIN, u.rule());
        }
    }

    @Test
    void mmapFirst_theIocbNoLongerHoldsTheTeardownBack() {
        for (long seed : SEEDS) {
            Bed b = new Bed(seed, true, false);
            Aio.setTeardownOrder(b.k, Aio.TeardownOrder.MMAP_FIRST);
            b.workerAfterCancel(() -> {
                b.log.add("complete");
                b.iocb.get().kiComplete(3);
            });
            RunResult r = b.k.run();
            assertClean(r);
            assertEquals(List.of("exit", "exit_mmap:release users=0", "cancel users=0 phase=VMAS_GONE", "complete"),
                    b.log, "seed " + seed + ": exit_aio after exit_mmap");
            assertFalse(b.iocb.get().holdsBack(b.mm.get()));
        }
    }

    @Test
    void cancelFnSetTwice_isTheKernelsWarn() {
        Kernel k = checkedKernel(1);
        Process.spawn(k, "proc", self -> {
            MmStruct m = MmStruct.of(self);
            Kioctx c = Aio.ioSetup(m);
            Aio.ioSubmit(c, 1, (kiocb, a, n) -> {
                kiocb.kiocbSetCancelFn(x -> 0);
                kiocb.kiocbSetCancelFn(x -> 0);
                return n;
            }, 0x1000, 8);
        });
        RunResult r = k.run();
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class, r.firstFailure().orElseThrow());
        assertEquals(KernelRules.KIOCB_CANCEL_FN_TWICE, v.rule());
    }
}
