package hmm4j.sim;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How the tasks of a {@link ControlledRuntime} take turns when they are virtual threads: the
 * fallback when the JVM does not export {@code jdk.internal.vm} (or with
 * {@code -Dhmm4j.runtime=threads}), with the same decisions as the continuations on one run
 * thread.
 *
 * <p>Overview: the runtime's volatile {@code current} names the task that owns the machine;
 * the write of the next task (a happens-before edge for all model state) is followed by an
 * unpark of its thread, while the previous task parks until {@code current} names it again.
 * The caller's thread starts every task's thread, takes the first decision, and waits on the
 * run's latch for the last task (or a failure) to release it, at most for the wall-clock
 * bound; a task that never reaches a scheduling point is then reported, interrupted and left
 * on its carrier (this mode cannot give the JVM back its thread, see architecture.md). The
 * decision code (what is chosen, recorded and traced) is the runtime's, shared with the
 * continuation mode; only the hand-off is here.
 */
@HiddenFromSites
final class VirtualThreadTurns {
    private VirtualThreadTurns() {
    }

    /** A task's thread at its start: parks until it is chosen or the run stops. */
    static void awaitFirstTurn(ControlledRuntime rt, Task t) {
        while (rt.current != t && !rt.aborted()) {
            LockSupport.park(rt);
        }
    }

    /** After {@code next} was chosen at an exit: hands it the machine, or ends the run when null. */
    static void handOnAtExit(ControlledRuntime rt, Task next) {
        if (next == null) {
            rt.finished.countDown();
        } else {
            rt.current = next;
            LockSupport.unpark(next.thread);
        }
    }

    /** Hands the machine from {@code from} to {@code to}; returns when {@code from} is chosen again. */
    static void transfer(ControlledRuntime rt, Task from, Task to) {
        if (to == null) {
            // Every non-daemon task is done while a daemon blocks: the run ends here and the
            // daemon stays parked until the runtime stops it.
            rt.current = null;
            rt.finished.countDown();
            while (!rt.aborted()) {
                LockSupport.park(rt);
            }
            throw new RunAborted();
        }
        rt.current = to;
        LockSupport.unpark(to.thread);
        while (rt.current != from && !rt.aborted()) {
            LockSupport.park(rt);
        }
        if (rt.aborted()) {
            throw new RunAborted();
        }
    }

    /** The run stopped: every task's thread unparked, to unwind at its next runtime call. */
    static void unparkAll(ControlledRuntime rt) {
        for (Task t : rt.tasks) {
            LockSupport.unpark(t.thread);
        }
    }

    /** The run: every task's thread started, the first one chosen, the caller waiting. */
    static void run(ControlledRuntime rt) {
        for (Task t : rt.tasks) {
            t.thread.start();
        }
        Task first = rt.firstDecision();
        if (first == null) {
            rt.finished.countDown();
        } else {
            rt.current = first;
            LockSupport.unpark(first.thread);
        }
        boolean done;
        try {
            done = rt.finished.await(rt.wallTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        if (!done) {
            Task stuck = rt.current;
            rt.recordFailure(rt.runaway(stuck, SiteCapture.site(stuck, rt.step())));
            if (stuck != null) {
                stuck.thread.interrupt();
            }
        }
        // Stop daemons and anything still parked, then let their threads unwind.
        rt.stop();
        for (Task t : rt.tasks) {
            try {
                t.thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
    }
}
