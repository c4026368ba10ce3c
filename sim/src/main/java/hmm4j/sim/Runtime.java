package hmm4j.sim;

import hmm4j.sim.failure.Failure;

/**
 * How a {@link Kernel}'s tasks execute. Two implementations behind one API:
 * {@link ControlledRuntime} (one task at a time, a {@link Strategy} picks at every
 * scheduling point, virtual time) and {@link NativeRuntime} (real JVM threads,
 * {@code java.util.concurrent}, real time). Primitives are written once against this.
 */
@HiddenFromSites
public sealed interface Runtime permits ControlledRuntime, NativeRuntime {

    /** True for the controlled (deterministic) runtime. */
    boolean isControlled();

    /** The task running on the calling thread, or null outside any task. */
    Task current();

    /**
     * A scheduling point: in the controlled runtime the strategy may switch to another
     * task here. {@code op} is the operation about to happen, built once by its object.
     */
    void point(Op op);

    /** A new channel for blocking and waking, named for reports. */
    WaitChannel newChannel(String name);

    /** Starts a task (now if the run has started, else when it starts). */
    void start(Task task);

    /** Blocks the current task until {@code task} is done. */
    void joinTask(Task task);

    /** Sleeps for {@code nanos} (virtual time in the controlled runtime). */
    void sleep(long nanos);

    /** Current time: virtual nanoseconds (controlled) or {@link System#nanoTime()} (native). */
    long nanoTime();

    /** The number of scheduling decisions taken so far. */
    long step();

    /**
     * Records a failure. Controlled: stops the run and, when called from a task, throws
     * {@link RunAborted}. Native: collects it and returns.
     */
    void fail(Failure failure);

    /**
     * Reports {@code e}, thrown by the body of task {@code t} (the calling task), as the
     * task's failure now, before code that wraps the body (an exit cleanup) runs. Controlled:
     * records it and throws {@link RunAborted}, as {@link #fail} does. Native: collects it and
     * returns; when {@code e} then leaves the body, it is not reported again.
     */
    void taskThrew(Task t, Throwable e);

    /** Runs every started task to completion (or until the run stops) and returns the result. */
    RunResult run();
}
