package hmm4j.sim;

/**
 * An explorer's worker whose runs execute inline on one run thread, watched from the worker's
 * own thread: no thread wake-up per run, the same guarantees against a task that never reaches
 * a scheduling point or blocks outside the model. See {@link RunThread} (worker mode) for the
 * design and {@code docs/architecture.md} for why.
 *
 * <p>Use: the worker's loop is {@code body}; it must be able to run again from where it
 * stands (its state outside the call), because after a run is given up the loop goes on on a
 * new thread. The run given up is handed to {@code onAbandoned} on the worker's thread, with its
 * result (the verdict, as {@link Kernel#run} would have returned it), before the loop goes on.
 * The abandoned thread unwinds with {@link RunAbandoned}, which the loop must let pass.
 */
@HiddenFromSites
public final class RunWorker {
    private RunWorker() {
    }

    /** Receives a run the watchdog gave up, on the worker's thread. */
    @FunctionalInterface
    public interface OnAbandoned {
        /** {@code kernel}'s run was given up; {@code result} is its result, with the verdict. */
        void abandoned(Kernel kernel, RunResult result);
    }

    /**
     * Runs {@code body} as a worker (see the class comment); returns when it returns, throwing
     * again what it threw. {@code onInterrupted} runs on the worker's thread each time that
     * thread is interrupted meanwhile (the body should then stop by its own state; the interrupt
     * is given back to the thread when this returns, and never reaches the runs).
     */
    public static void run(Runnable body, OnAbandoned onAbandoned, Runnable onInterrupted) {
        RunThread.work(body, onAbandoned, onInterrupted);
    }
}
