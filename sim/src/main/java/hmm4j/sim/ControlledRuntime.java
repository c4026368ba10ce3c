package hmm4j.sim;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The deterministic runtime: exactly one task runs at a time.
 *
 * <p>Overview: the running task owns the whole simulated machine until it reaches a
 * scheduling point ({@link #point}), blocks on a {@link WaitChannel}, sleeps or exits; then
 * the {@link Strategy} picks the next enabled task and the machine goes to it. Tasks take
 * turns in one of two ways, with the same decisions: as continuations
 * ({@link Continuations}) driven one after the other from one {@link RunThread}, which a
 * watchdog in the caller gives up when a task never reaches a point or blocks outside the
 * model (the default, when the JVM exports {@code jdk.internal.vm}); or as virtual threads
 * ({@link VirtualThreadTurns}, the hand-off of that mode).
 * Every choice is recorded compactly ({@link DecisionLog}), so that the same seed gives the
 * same run and a replay can verify each step; the enabled set is kept between decisions
 * ({@link TaskTable}) and the strategy sees one reused {@link SchedulingPoint}, so a
 * decision allocates nothing.
 *
 * <p>Time is virtual: it only advances when no task is enabled and some task waits with a
 * timeout, to that task's deadline. When no task is enabled, none waits with a timeout and
 * some non-daemon task has not finished, the run is a deadlock and is reported with each
 * blocked task's blocking point. Every run is bounded in steps, virtual time, wall-clock
 * time, time blocked outside the model, live tasks and decision memory; exceeding a bound is
 * reported, never a hang or an {@code OutOfMemoryError}.
 *
 * <p>Trace: every event is recorded with its {@link TraceEvent.Kind}. An event at which a
 * decision is taken (an operation, a block, a sleep, an exit) is recorded right after the
 * decision, with its step and, when the machine goes to another task, the
 * {@link TraceEvent.Switch} and its reason: preempted (the acting task was still enabled),
 * blocked (the event's detail says on what, naming a lock's holders), sleeping or exited. A
 * task resuming from a block records who woke it: each channel remembers, per waiter, the
 * task that called {@link WaitChannel#wakeAll()}; a wake by the virtual clock is a timeout.
 * Recording never changes a decision, so the same seed still gives the same run.
 *
 * <p>Stopping: a failure sets {@link #aborted}, unparks every task and releases the main
 * thread; each task then unwinds with {@link RunAborted} at its next runtime call.
 */
@HiddenFromSites
final class ControlledRuntime implements Runtime {
    private final Kernel kernel;
    private final Strategy strategy;
    private final long maxSteps;
    private final long maxVirtualNanos;
    final long wallTimeoutMillis;
    private final RunBounds bounds;
    /** Continuations on one run thread (true) or virtual threads (false). */
    private final boolean continuations = Continuations.chosen();

    private final TaskTable table = new TaskTable();
    final List<Task> tasks = table.all();
    private final DecisionLog decisions = new DecisionLog();
    /** The strategy's view of each decision: one object, moved from decision to decision. */
    private final SchedulingPoint point = new SchedulingPoint(table.enabled());
    /** The task state-change count when the last decision was recorded. */
    private long recordedAt = -1;
    /** Continuations: the run thread, and the task a yielding or exiting task handed the machine to. */
    private RunThread runThread;
    private Task handoff;
    private final List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
    /** Virtual threads: counted down when the run is over ({@link VirtualThreadTurns}). */
    final CountDownLatch finished = new CountDownLatch(1);
    volatile Task current;
    private volatile boolean aborted;
    private volatile String divergence;
    private boolean started;
    private long step;
    private long now;

    ControlledRuntime(Kernel kernel, Strategy strategy, long maxSteps, long maxVirtualNanos, long wallTimeoutMillis,
                      RunBounds bounds) {
        this.kernel = kernel;
        this.strategy = strategy;
        this.maxSteps = maxSteps;
        this.maxVirtualNanos = maxVirtualNanos;
        this.wallTimeoutMillis = wallTimeoutMillis;
        this.bounds = bounds;
    }

    @Override
    public boolean isControlled() {
        return true;
    }

    @Override
    public Task current() {
        Task t = current;
        if (t == null) {
            return null;
        }
        if (continuations) {
            RunThread r = runThread;
            return r != null && r.isCurrent() ? t : null;
        }
        return Thread.currentThread() == t.thread ? t : null;
    }

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public long step() {
        return step;
    }

    String strategyDescription() {
        return strategy.describe();
    }

    // ---- tasks ----

    @Override
    public void start(Task task) {
        if (aborted) {
            throw new RunAborted();
        }
        task.exitChannel = newChannel("exit of " + task.name());
        if (continuations) {
            task.continuation = Continuations.create(() -> taskMain(task));
        } else {
            task.thread = Thread.ofVirtual().name(task.name()).unstarted(() -> taskMain(task));
        }
        int live = table.add(task);
        if (live > bounds.maxTasks()) {
            fail(bounds.tooManyTasks(task, live, site(current())));
            return;
        }
        if (started && !continuations) {
            task.thread.start();
        }
    }

    private void taskMain(Task t) {
        if (!continuations) {
            VirtualThreadTurns.awaitFirstTurn(this, t);
        }
        if (aborted) {
            return;
        }
        try {
            t.body.run(t);
            t.runExitHooks();
        } catch (RunAborted e) {
            return;
        } catch (Throwable e) {
            if (!aborted) {
                recordThrow(t, e);
            }
            return;
        }
        if (aborted) {
            return;
        }
        table.setState(t, Task.State.DONE);
        t.exitChannel.wakeAll();
        Task next;
        try {
            next = decide(t, TraceEvent.Kind.EXIT, "exit", "", TraceEvent.SwitchReason.EXITED, t.exitOp());
        } catch (RunAborted e) {
            return;
        }
        if (continuations) {
            handoff = next;
        } else {
            VirtualThreadTurns.handOnAtExit(this, next);
        }
    }

    @Override
    public void joinTask(Task task) {
        kernel.syncObserver().mightSleep(current(), task.joinSleepLabel());
        point(task.joinOp());
        task.exitChannel.await(task.target(), () -> task.state == Task.State.DONE, task.joinWaitReason(),
                WaitChannel.FOREVER);
    }

    @Override
    public void sleep(long nanos) {
        Task t = requireCurrent();
        point(t.msleepOp());
        t.deadline = now + Math.max(0, nanos);
        t.timedOut = false;
        t.blockedOn = "msleep";
        table.setState(t, Task.State.BLOCKED);
        String until = kernel.trace().enabled() ? "msleep until " + t.deadline + " ns" : "";
        transfer(t, decide(t, TraceEvent.Kind.SLEEPING, "", until, TraceEvent.SwitchReason.SLEEPING, t.sleepOp()));
        t.timedOut = false;
        record(t, step, TraceEvent.Kind.WOKEN, "woken: ", until, null, null, null);
    }

    // ---- scheduling ----

    @Override
    public void point(Op op) {
        Task t = current();
        if (t == null) {
            return;
        }
        if (aborted) {
            throw new RunAborted();
        }
        if (t.suppressPoints > 0) {
            return;
        }
        transfer(t, decide(t, TraceEvent.Kind.OPERATION, null, "", TraceEvent.SwitchReason.PREEMPTED, op));
    }

    /**
     * Takes the decision at an event of {@code t} ({@link #choose}) and records the event
     * with that decision's step and, when another task was chosen, the switch with
     * {@code reason}. If no decision can be taken (deadlock, bound, divergence) the event is
     * recorded without a switch first, then the run stops and the task unwinds. Recording
     * after the decision never changes it: the strategy sees the same point either way. The
     * event's text is {@code prefix + detail} ({@code op}'s label when {@code prefix} is
     * null), built only when a trace is recorded.
     */
    Task decide(Task t, TraceEvent.Kind kind, String text, String detail, TraceEvent.SwitchReason reason,
                        Op op) {
        long before = step;
        Task next;
        try {
            next = choose(t, op);
        } catch (NoDecision e) {
            // A deadlock is found before the step is counted: the event gets the number of
            // the decision that could not be taken, as the deadlock's site does.
            record(t, step == before ? step + 1 : step, kind, text, detail, op, null, null);
            throw abort(e);
        }
        // The switch is only for the trace: not built when nothing is recorded.
        TraceEvent.Switch sw = next == null || next == t || !kernel.trace().enabled() ? null
                : new TraceEvent.Switch(reason, next.id(), next.name());
        // No decision when the last task exits: the event stays in the current step.
        record(t, step, kind, text, detail, op, null, sw);
        return next;
    }

    /** Why {@link #choose} could not pick a task: a failure to report or a replay divergence. */
    private static final class NoDecision extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Failure failure;
        private final String divergence;

        NoDecision(Failure failure, String divergence) {
            super(null, null, false, false);
            this.failure = failure;
            this.divergence = divergence;
        }
    }

    /** Stops the run for {@code e}; the caller throws the result when it is a task. */
    private RunAborted abort(NoDecision e) {
        if (e.divergence != null) {
            divergence = e.divergence;
            stop();
        } else {
            recordFailure(e.failure);
        }
        return new RunAborted();
    }

    /** Records an event whose text is {@code prefix + detail}, or {@code op}'s label when {@code prefix} is null. */
    void record(Task t, long at, TraceEvent.Kind kind, String prefix, String detail, Op op, Task waker,
                        TraceEvent.Switch sw) {
        Trace trace = kernel.trace();
        if (!trace.enabled()) {
            return;
        }
        String text = prefix == null ? op.label() : detail.isEmpty() ? prefix : prefix + detail;
        String wokenBy = waker == null ? "" : waker.name();
        if (!kernel.sitesEnabled()) {
            trace.add(new TraceEvent(at, t.id(), t.name(), kind, text, detail, op, wokenBy, sw, ""));
            return;
        }
        StackWalker.StackFrame f = SiteCapture.innermost();
        trace.add(new TraceEvent(at, t.id(), t.name(), kind, text, detail, op, wokenBy, sw,
                () -> SiteCapture.format(f)));
    }

    /**
     * Picks the next task after {@code from} reached a point, blocked or exited. Advances
     * virtual time when only timed waiters remain; returns null when the run is complete;
     * reports a deadlock when nothing can ever run again.
     */
    private Task choose(Task from, Op op) throws NoDecision {
        List<Task> enabled = table.enabled();
        while (enabled.isEmpty()) {
            Task timed = table.earliestTimedWaiter();
            if (timed == null) {
                if (table.allNonDaemonsDone()) {
                    return null;
                }
                throw new NoDecision(deadlock(), null);
            }
            if (timed.deadline > maxVirtualNanos) {
                throw new NoDecision(new Failure.StepBoundExceeded("virtual time", maxVirtualNanos,
                        timed.name() + " waits until " + timed.deadline + " ns", site(timed)), null);
            }
            now = Math.max(now, timed.deadline);
            timed.timedOut = true;
            wake(timed);
            enabled = table.enabled();
        }
        if (++step > maxSteps) {
            throw new NoDecision(new Failure.StepBoundExceeded("steps", maxSteps,
                    "still running after " + maxSteps + " scheduling decisions (last: " + op + ")", site(from)), null);
        }
        int index;
        try {
            index = strategy.pick(point.at(step, from, op));
        } catch (ReplayDivergence e) {
            throw new NoDecision(null, e.getMessage());
        }
        Task next = enabled.get(index);
        decisions.add(next.id(), enabled, table.changedSince(recordedAt), op);
        recordedAt = table.changes();
        if (decisions.size() % 1024 == 0 && decisions.bytes() > bounds.maxDecisionBytes()) {
            throw new NoDecision(bounds.tooMuchRecorded(decisions.size(), decisions.bytes(), enabled.size(),
                    site(from)), null);
        }
        return next;
    }

    private Failure deadlock() {
        List<String> blocked = table.blocked();
        // The decision that could not be taken: the step of the last task's blocked event.
        return new Failure.Deadlock(blocked, SiteCapture.site(current(), step + 1));
    }

    private Site site(Task t) {
        return SiteCapture.site(t, step);
    }

    /** Hands the machine from {@code from} to {@code to}; returns when {@code from} is chosen again. */
    void transfer(Task from, Task to) {
        if (to == from) {
            return;
        }
        if (continuations) {
            yieldTo(from, to);
        } else {
            VirtualThreadTurns.transfer(this, from, to);
        }
    }

    /**
     * Continuations: hands the machine to {@code to} (null: the run is complete while
     * {@code from}, a daemon, waits) by suspending {@code from}; the run thread's loop
     * resumes {@code to}. Returns when {@code from} is resumed, chosen again.
     */
    private void yieldTo(Task from, Task to) {
        if (aborted) {
            throw new RunAborted();
        }
        handoff = to;
        try {
            Continuations.yieldNow();
        } catch (IllegalStateException e) {
            // Pinned: a monitor or a native frame holds the task on the thread. It cannot be
            // switched away, so the run cannot go on as scheduled: report it, and unwind.
            handoff = null;
            recordFailure(bounds.pinned(from, e.getMessage(), site(from)));
            throw new RunAborted();
        }
        if (aborted) {
            throw new RunAborted();
        }
    }

    Task requireCurrent() {
        Task t = current();
        if (t == null) {
            throw new IllegalStateException("not called from a task of this kernel");
        }
        return t;
    }

    void wake(Task t) {
        t.blockedOn = null;
        t.deadline = Long.MAX_VALUE;
        table.setState(t, Task.State.RUNNABLE);
    }

    // ---- channels ----

    /** True once the run stopped: every task unwinds at its next runtime call. */
    boolean aborted() {
        return aborted;
    }

    /** Marks {@code t} blocked on {@code reason} until woken or {@code deadline} (virtual ns). */
    void block(Task t, String reason, long deadline) {
        t.blockedOn = reason;
        t.deadline = deadline;
        table.setState(t, Task.State.BLOCKED);
    }

    @Override
    public WaitChannel newChannel(String name) {
        return new ControlledChannel(this);
    }

    // ---- failures and the run ----

    @Override
    public void fail(Failure failure) {
        recordFailure(failure);
        if (current() != null) {
            throw new RunAborted();
        }
    }

    @Override
    public void taskThrew(Task t, Throwable e) {
        if (!aborted) {
            recordThrow(t, e);
        }
        throw new RunAborted();
    }

    /** The trace event and the failure of an exception thrown by {@code t}'s body. */
    private void recordThrow(Task t, Throwable e) {
        String type = e.getClass().getSimpleName();
        record(t, step, TraceEvent.Kind.THREW, "threw " + (type.isEmpty() ? e.getClass().getName() : type),
                "", null, null, null);
        recordFailure(kernel.unexpected(t, e));
    }

    void recordFailure(Failure failure) {
        if (!aborted) {
            failures.add(failure);
        }
        stop();
    }

    void stop() {
        if (!started) {
            aborted = true;
            return;
        }
        aborted = true;
        if (!continuations) {
            VirtualThreadTurns.unparkAll(this);
        }
        finished.countDown();
    }

    @Override
    public RunResult run() {
        if (started) {
            throw new IllegalStateException("a kernel runs once");
        }
        started = true;
        RunThread worker = continuations ? RunThread.currentWorker() : null;
        if (worker != null) {
            runThread = worker;
            worker.beginWatched(this);
            drive();
            if (!worker.endWatched(this)) {
                throw new RunAbandoned();
            }
        } else if (continuations) {
            runOnRunThread();
        } else {
            VirtualThreadTurns.run(this);
        }
        return result();
    }

    private RunResult result() {
        return new RunResult(kernel.seed(), strategy.describe(), failures, step, now, decisions.view(),
                kernel.trace().events(), Optional.ofNullable(divergence),
                tasks.stream().map(Task::name).toList());
    }

    // ---- worker mode (RunThread.work): the run inline on a worker's run thread ----

    /** When this run started driving its tasks ({@link System#nanoTime}), for the watchdog. */
    volatile long watchStart;
    /** 0 while the run drives its tasks, 1 once it ended, 2 once the watchdog gave it up. */
    private volatile int watchEnd;
    private static final VarHandle WATCH_END;

    static {
        try {
            WATCH_END = MethodHandles.lookup().findVarHandle(ControlledRuntime.class, "watchEnd", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The watchdog's claim on this run: true when the run had not ended. */
    boolean tryAbandon() {
        return WATCH_END.compareAndSet(this, 0, 2);
    }

    /** The run's own claim on its end: true when the watchdog had not given it up. */
    boolean tryFinish() {
        return WATCH_END.compareAndSet(this, 0, 1);
    }

    /** The bound on time blocked outside the model, never above the wall-clock bound. */
    long blockedMillis() {
        return Math.min(bounds.blockedMillis(), wallTimeoutMillis);
    }

    Kernel kernel() {
        return kernel;
    }

    /**
     * The watchdog gave this run up with {@code v}: the verdict recorded, and the result as
     * {@link Kernel#run} returns a failed run's.
     */
    RunResult abandoned(RunThread.Verdict v) {
        recordVerdict(v);
        return kernel.failedResult(result());
    }

    private void recordVerdict(RunThread.Verdict v) {
        Task stuck = current;
        Site at = RunBounds.stuckSite(stuck, step, v.stack());
        recordFailure(v.outcome() == RunThread.Outcome.BLOCKED
                ? bounds.blockedOutside(stuck, v.state(), v.stack(), at)
                : runaway(stuck, at));
    }

    /** The wall-clock bound's verdict: {@code stuck} ran the whole bound without a scheduling point. */
    Failure runaway(Task stuck, Site at) {
        return new Failure.StepBoundExceeded("wall-clock time", wallTimeoutMillis,
                (stuck == null ? "no task" : stuck.name()) + " ran " + wallTimeoutMillis
                        + " ms without reaching a scheduling point", at);
    }

    /** Continuations: the run on a run thread, watched from this one (see {@link RunThread}). */
    private void runOnRunThread() {
        runThread = RunThread.claim();
        RunThread.Verdict v = runThread.execute(this::drive, wallTimeoutMillis, blockedMillis(), () -> step);
        if (v.outcome() != RunThread.Outcome.DONE) {
            recordVerdict(v);
            runThread.interruptAbandoned();
        }
    }

    /** The run's first decision (the machine's start), or null when the run stopped or cannot start. */
    Task firstDecision() {
        try {
            return aborted ? null : choose(null, kernel.startOp);
        } catch (NoDecision e) {
            abort(e);
            return null;
        }
    }

    /**
     * Continuations, on the run thread: the first decision, then each chosen task resumed
     * until it hands the machine on; at the end (complete, failed or stopped) every task
     * still suspended is resumed once more to unwind ({@link RunAborted}), as the threads of
     * the other mode do.
     */
    private void drive() {
        Task next = firstDecision();
        while (next != null && !aborted) {
            current = next;
            handoff = null;
            Continuations.run(next.continuation);
            next = handoff;
        }
        stop();
        for (Task t : tasks) {
            if (t.continuation != null && !Continuations.isDone(t.continuation)) {
                current = t;
                Continuations.run(t.continuation);
            }
        }
        current = null;
    }

    List<Failure> failures() {
        return failures;
    }

    /** For {@link JvmExits}, from a shutdown hook: this run so far when its current task is exiting the JVM. */
    JvmExits.Exit exitInProgress() {
        Task t = current;
        RunThread r = runThread;
        Thread thread = t == null ? null : continuations ? (r == null ? null : r.thread()) : t.thread;
        Failure f = thread == null ? null : JvmExits.verdict(t, step, thread.getStackTrace());
        return f == null ? null : new JvmExits.Exit(kernel, t.name(), new RunResult(kernel.seed(),
                strategy.describe(), List.of(f), step, now, decisions.view(), kernel.trace().events(),
                Optional.empty(), tasks.stream().map(Task::name).toList()));
    }
}
