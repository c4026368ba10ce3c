package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;

/**
 * Set-up shared by the notifier tests: a process with a mapping, "core mm" invalidations
 * held in flight by a thread of the process, and kernels with the checkers installed.
 */
final class ItreeHarness {
    static final long PAGE = Pte.PAGE_SIZE;
    static final long[] SEEDS = {1, 2, 3, 7, 11, 42, 99, 1234};

    private ItreeHarness() {
    }

    /** The body of a test process: its kernel, its mm and the base of a 32-page RW mapping. */
    interface Body {
        void run(Kernel k, MmStruct mm, long base) throws Exception;
    }

    /** Runs {@code body} in a process of a checked kernel with seed {@code seed}; returns the run. */
    static RunResult runProcess(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 32 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base)) {
                throw new IllegalStateException("mmap failed: " + base);
            }
            body.run(k, mm, base);
        });
        return k.run();
    }

    /** As {@link #runProcess} and asserts the run is clean. */
    static void runClean(long seed, Body body) {
        assertClean(runProcess(seed, body));
    }

    /**
     * Starts, in a new thread of the current process, a CLEAR invalidation of [start, end) as
     * {@code madvise} would issue it, under the mmap read lock: start, signal {@code started},
     * wait for {@code gate}, end, signal {@code ended} (null signals are skipped).
     */
    static Task inFlight(Kernel k, MmStruct mm, String name, long start, long end, Completion started,
            Completion gate, Completion ended) {
        return Clone.cloneVm(k, name, self -> {
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, start, end);
            mm.mmapReadLock();
            range.invalidateRangeStart();
            if (started != null) {
                started.complete();
            }
            if (gate != null) {
                gate.waitForCompletion();
            }
            range.invalidateRangeEnd();
            mm.mmapReadUnlock();
            if (ended != null) {
                ended.complete();
            }
        });
    }

    /** A thread of the current process that waits for {@code after}, then completes {@code then}. */
    static Task releaser(Kernel k, String name, Completion after, Completion then) {
        return Clone.cloneVm(k, name, self -> {
            after.waitForCompletion();
            then.complete();
        });
    }

    static MmuNotifierSubscriptions subs(MmStruct mm) {
        return mm.notifierSubscriptions();
    }
}
