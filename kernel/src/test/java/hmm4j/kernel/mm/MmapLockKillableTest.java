package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.kernel.sched.Signal;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code mmap_read_lock_killable} / {@code mmap_write_lock_killable} asleep on a contended
 * mmap lock: a {@code SIGKILL} sent while the task sleeps wakes it and the lock gives up with
 * {@code -EINTR}, as {@code down_read_killable} / {@code down_write_killable} do; a writer that
 * gives up lets the readers queued behind it in.
 */
class MmapLockKillableTest {
    private static final int SEEDS = 50;

    /** Scheduling points until {@code other} sleeps on something whose reason contains {@code what}. */
    private static void awaitBlocked(Kernel k, Task other, String what) {
        Op poll = new Op(new Op.Kind("poll", Op.Access.READ), k.newTarget("poll " + other.name()), "poll " + other.name());
        while (!(other.state() == Task.State.BLOCKED && other.blockedOn() != null && other.blockedOn().contains(what))) {
            k.point(poll);
        }
    }

    /**
     * The process sleeps in the killable read lock while a thread of it holds the lock for
     * write until the process has returned from it; a kernel thread kills the process once it
     * sleeps. Without the wake-up the process would sleep for ever.
     */
    private static RunResult readerKilledAsleep(long seed, AtomicInteger ret, AtomicInteger status) {
        Kernel k = checkedKernel(seed);
        Task proc = Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            Completion held = new Completion(k, "held");
            Completion returned = new Completion(k, "returned");
            Task holder = Clone.cloneVm(k, "holder", t -> {
                mm.mmapWriteLock();
                held.complete();
                returned.waitForCompletion();
                mm.mmapWriteUnlock();
            });
            held.waitForCompletion();
            k.spawnKthread("killer", t -> {
                awaitBlocked(k, self, "down_read_killable");
                assertEquals(0, Signal.kill(self, Signal.SIGKILL));
            });
            ret.set(mm.mmapReadLockKillable());
            returned.complete();
            holder.join();
        });
        k.spawnKthread("reaper", t -> status.set(Process.waitpid(proc).wtermsig()));
        return k.run();
    }

    @Test
    void aSigkillWhileAsleepInTheKillableReadLock_wakesIt_andItReturnsEintr() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            AtomicInteger ret = new AtomicInteger(1);
            AtomicInteger status = new AtomicInteger();
            RunResult r = readerKilledAsleep(seed, ret, status);
            assertClean(r);
            assertEquals(-Errno.EINTR, ret.get(), describe(r));
            assertEquals(Signal.SIGKILL, status.get(), "the process then dies of the signal");
        }
    }

    /**
     * A thread holds the lock for read; the process waits in the killable write lock; a second
     * thread's read lock queues behind the waiting writer. The kill makes the writer give up,
     * and the queued reader gets the lock beside the first (else it would sleep for ever).
     */
    @Test
    void aKilledWriter_givesUpWithEintr_andTheReaderQueuedBehindItGetsIn() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            Kernel k = checkedKernel(seed);
            AtomicInteger ret = new AtomicInteger(1);
            AtomicInteger readerGotIn = new AtomicInteger();
            Process.spawn(k, "proc", self -> {
                MmStruct mm = MmStruct.of(self);
                Completion held = new Completion(k, "held");
                Completion readerDone = new Completion(k, "reader done");
                Task holder = Clone.cloneVm(k, "holder", t -> {
                    mm.mmapReadLock();
                    held.complete();
                    readerDone.waitForCompletion();
                    mm.mmapReadUnlock();
                });
                held.waitForCompletion();
                Task reader = Clone.cloneVm(k, "reader", t -> {
                    awaitBlocked(k, self, "down_write_killable");
                    mm.mmapReadLock();
                    readerGotIn.incrementAndGet();
                    mm.mmapReadUnlock();
                    readerDone.complete();
                });
                k.spawnKthread("killer", t -> {
                    awaitBlocked(k, reader, "down_read");
                    Signal.kill(self, Signal.SIGKILL);
                });
                ret.set(mm.mmapWriteLockKillable());
                holder.join();
                reader.join();
            });
            RunResult r = k.run();
            assertClean(r);
            assertEquals(-Errno.EINTR, ret.get(), describe(r));
            assertEquals(1, readerGotIn.get());
        }
    }

    @Test
    void aKillableLockNobodyKills_isTakenWhenTheHolderLetsGo() {
        Kernel k = checkedKernel(3);
        AtomicInteger ret = new AtomicInteger(1);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            Completion held = new Completion(k, "held");
            Task holder = Clone.cloneVm(k, "holder", t -> {
                mm.mmapWriteLock();
                held.complete();
                awaitBlocked(k, self, "down_read_killable");
                mm.mmapWriteUnlock();
            });
            held.waitForCompletion();
            ret.set(mm.mmapReadLockKillable());
            assertTrue(mm.mmapLock().heldByCurrent());
            mm.mmapReadUnlock();
            holder.join();
        });
        assertClean(k.run());
        assertEquals(0, ret.get());
    }
}
