package hmm4j.sim;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The deterministic runtime: exactly one task runs at a time.
 *
 * <p>Overview: each task is a virtual thread. The running task owns the whole simulated
 * machine until it reaches a scheduling point ({@link #point}), blocks on a
 * {@link WaitChannel}, sleeps or exits; then the {@link Strategy} picks the next enabled
 * task, {@link #current} is set to it (a volatile write, which is also the happens-before
 * edge for all model state) and it is unparked while the previous one parks until it is
 * chosen again. Every choice is recorded as a {@link Decision}, so that the same seed gives
 * the same run and a replay can verify each step.
 *
 * <p>Time is virtual: it only advances when no task is enabled and some task waits with a
 * timeout, to that task's deadline. When no task is enabled, none waits with a timeout and
 * some non-daemon task has not finished, the run is a deadlock and is reported with each
 * blocked task's blocking point. Every run is bounded in steps, virtual time and
 * wall-clock time; exceeding a bound is reported, never a hang.
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
    private final long wallTimeoutMillis;

    private final List<Task> tasks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Decision> decisions = new ArrayList<>();
    private final List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile Task current;
    private volatile boolean aborted;
    private volatile String divergence;
    private boolean started;
    /** The enabled ids of the last decision, shared by the next one when equal ({@link #enabledIds}). */
    private List<Integer> lastEnabledIds = List.of();
    private long step;
    private long now;

    ControlledRuntime(Kernel kernel, Strategy strategy, long maxSteps, long maxVirtualNanos, long wallTimeoutMillis) {
        this.kernel = kernel;
        this.strategy = strategy;
        this.maxSteps = maxSteps;
        this.maxVirtualNanos = maxVirtualNanos;
        this.wallTimeoutMillis = wallTimeoutMillis;
    }

    @Override
    public boolean isControlled() {
        return true;
    }

    @Override
    public Task current() {
        Task t = current;
        return t != null && Thread.currentThread() == t.thread ? t : null;
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
        task.state = Task.State.RUNNABLE;
        task.thread = Thread.ofVirtual().name(task.name()).unstarted(() -> taskMain(task));
        tasks.add(task);
        if (started) {
            task.thread.start();
        }
    }

    private void taskMain(Task t) {
        while (current != t && !aborted) {
            LockSupport.park(this);
        }
        if (aborted) {
            return;
        }
        try {
            t.body.run(t);
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
        t.state = Task.State.DONE;
        t.exitChannel.wakeAll();
        Task next;
        try {
            next = decide(t, TraceEvent.Kind.EXIT, "exit", "", TraceEvent.SwitchReason.EXITED, t.exitOp());
        } catch (RunAborted e) {
            return;
        }
        if (next == null) {
            finished.countDown();
        } else {
            current = next;
            LockSupport.unpark(next.thread);
        }
    }

    @Override
    public void joinTask(Task task) {
        kernel.syncObserver().mightSleep(current(), "join(" + task.name() + ")");
        point(task.joinOp());
        task.exitChannel.await(task.target(), () -> task.state == Task.State.DONE,
                "join " + task.name() + " waiting for " + task.name() + " to exit", WaitChannel.FOREVER);
    }

    @Override
    public void sleep(long nanos) {
        Task t = requireCurrent();
        point(t.msleepOp());
        t.deadline = now + Math.max(0, nanos);
        t.timedOut = false;
        t.state = Task.State.BLOCKED;
        t.blockedOn = "msleep";
        String until = "msleep until " + t.deadline + " ns";
        transfer(t, decide(t, TraceEvent.Kind.SLEEPING, until, until, TraceEvent.SwitchReason.SLEEPING, t.sleepOp()));
        t.timedOut = false;
        record(t, step, TraceEvent.Kind.WOKEN, "woken: " + until, until, null, null, null);
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
        transfer(t, decide(t, TraceEvent.Kind.OPERATION, op.label(), "", TraceEvent.SwitchReason.PREEMPTED, op));
    }

    /**
     * Takes the decision at an event of {@code t} ({@link #choose}) and records the event
     * with that decision's step and, when another task was chosen, the switch with
     * {@code reason}. If no decision can be taken (deadlock, bound, divergence) the event is
     * recorded without a switch first, then the run stops and the task unwinds. Recording
     * after the decision never changes it: the strategy sees the same point either way.
     */
    private Task decide(Task t, TraceEvent.Kind kind, String text, String detail, TraceEvent.SwitchReason reason,
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

    private void record(Task t, long at, TraceEvent.Kind kind, String text, String detail, Op op, Task waker,
                        TraceEvent.Switch sw) {
        Trace trace = kernel.trace();
        if (!trace.enabled()) {
            return;
        }
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
        List<Task> enabled = enabledTasks();
        while (enabled.isEmpty()) {
            Task timed = earliestTimedWaiter();
            if (timed == null) {
                if (allNonDaemonsDone()) {
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
            enabled = enabledTasks();
        }
        if (++step > maxSteps) {
            throw new NoDecision(new Failure.StepBoundExceeded("steps", maxSteps,
                    "still running after " + maxSteps + " scheduling decisions (last: " + op + ")", site(from)), null);
        }
        int index;
        try {
            index = strategy.pick(new SchedulingPoint(step, from, enabled, op));
        } catch (ReplayDivergence e) {
            throw new NoDecision(null, e.getMessage());
        }
        Task next = enabled.get(index);
        decisions.add(new Decision(step, next.id(), enabledIds(enabled), op));
        return next;
    }

    /**
     * The ids of {@code enabled}, as an immutable list: the previous decision's list when the
     * ids are the same (the usual case: the same tasks stay enabled for many steps), so that
     * a decision costs no list and no stream. Equal by value to a fresh list either way.
     */
    private List<Integer> enabledIds(List<Task> enabled) {
        List<Integer> last = lastEnabledIds;
        int n = enabled.size();
        if (last.size() == n) {
            int i = 0;
            while (i < n && last.get(i) == enabled.get(i).id()) {
                i++;
            }
            if (i == n) {
                return last;
            }
        }
        Integer[] ids = new Integer[n];
        for (int i = 0; i < n; i++) {
            ids[i] = enabled.get(i).id();
        }
        lastEnabledIds = List.of(ids);
        return lastEnabledIds;
    }

    private List<Task> enabledTasks() {
        List<Task> enabled = new ArrayList<>(tasks.size());
        for (Task t : tasks) {
            if (t.state == Task.State.RUNNABLE) {
                enabled.add(t);
            }
        }
        return enabled;
    }

    private Task earliestTimedWaiter() {
        Task best = null;
        for (Task t : tasks) {
            if (t.state == Task.State.BLOCKED && t.deadline != Long.MAX_VALUE
                    && (best == null || t.deadline < best.deadline)) {
                best = t;
            }
        }
        return best;
    }

    private boolean allNonDaemonsDone() {
        for (Task t : tasks) {
            if (!t.isDaemon() && t.state != Task.State.DONE) {
                return false;
            }
        }
        return true;
    }

    private Failure deadlock() {
        List<String> blocked = new ArrayList<>();
        for (Task t : tasks) {
            if (t.state == Task.State.BLOCKED && !t.isDaemon()) {
                blocked.add(t.name() + " blocked on " + t.blockedOn);
            }
        }
        // The decision that could not be taken: the step of the last task's blocked event.
        return new Failure.Deadlock(blocked, SiteCapture.site(current(), step + 1));
    }

    private Site site(Task t) {
        return SiteCapture.site(t, step);
    }

    /** Hands the machine from {@code from} to {@code to}; returns when {@code from} is chosen again. */
    private void transfer(Task from, Task to) {
        if (to == from) {
            return;
        }
        if (to == null) {
            // Every non-daemon task is done while a daemon blocks: the run ends here and the
            // daemon stays parked until the runtime stops it.
            current = null;
            finished.countDown();
            while (!aborted) {
                LockSupport.park(this);
            }
            throw new RunAborted();
        }
        current = to;
        LockSupport.unpark(to.thread);
        while (current != from && !aborted) {
            LockSupport.park(this);
        }
        if (aborted) {
            throw new RunAborted();
        }
    }

    private Task requireCurrent() {
        Task t = current();
        if (t == null) {
            throw new IllegalStateException("not called from a task of this kernel");
        }
        return t;
    }

    private void wake(Task t) {
        t.state = Task.State.RUNNABLE;
        t.blockedOn = null;
        t.deadline = Long.MAX_VALUE;
    }

    // ---- channels ----

    @Override
    public WaitChannel newChannel(String name) {
        return new Channel();
    }

    private final class Channel implements WaitChannel {
        private final List<Task> waiters = new ArrayList<>(2);
        /** Per woken waiter, the task that woke it (absent: woken from outside any task). */
        private final Map<Task, Task> wakers = new IdentityHashMap<>(2);

        @Override
        public boolean await(Op.Target on, BooleanSupplier ready, String reason, long timeoutNanos) {
            Task t = requireCurrent();
            long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : now + timeoutNanos;
            t.timedOut = false;
            boolean resumed = false;
            Task waker = null;
            while (true) {
                if (aborted) {
                    throw new RunAborted();
                }
                boolean ok;
                t.suppressPoints++;
                try {
                    ok = ready.getAsBoolean();
                } finally {
                    t.suppressPoints--;
                }
                boolean expired = t.timedOut || (timeoutNanos >= 0 && now >= deadline);
                if (resumed && (ok || !expired)) {
                    // Woken (or, with the condition true, resumed by the clock): say by whom,
                    // then either go on or block again below.
                    record(t, step, TraceEvent.Kind.WOKEN, "woken: " + reason, reason, null, waker, null);
                }
                if (ok) {
                    return true;
                }
                if (expired) {
                    t.timedOut = false;
                    record(t, step, TraceEvent.Kind.TIMED_OUT, "timed out: " + reason, reason, null, null, null);
                    return false;
                }
                t.state = Task.State.BLOCKED;
                t.blockedOn = reason;
                t.deadline = deadline;
                waiters.add(t);
                Task next = decide(t, TraceEvent.Kind.BLOCKED, "blocked: " + reason, reason,
                        TraceEvent.SwitchReason.BLOCKED, new Op(Op.Kind.BLOCK, on, "block " + reason));
                transfer(t, next);
                waiters.remove(t);
                waker = wakers.remove(t);
                resumed = true;
            }
        }

        @Override
        public void wakeAll() {
            Task by = current();
            for (Task w : waiters) {
                wake(w);
                if (by != null) {
                    wakers.put(w, by);
                }
            }
            waiters.clear();
        }
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

    private void recordFailure(Failure failure) {
        if (!aborted) {
            failures.add(failure);
        }
        stop();
    }

    private void stop() {
        if (!started) {
            aborted = true;
            return;
        }
        aborted = true;
        for (Task t : tasks) {
            LockSupport.unpark(t.thread);
        }
        finished.countDown();
    }

    @Override
    public RunResult run() {
        if (started) {
            throw new IllegalStateException("a kernel runs once");
        }
        started = true;
        for (Task t : tasks) {
            t.thread.start();
        }
        Task first = null;
        try {
            first = aborted ? null : choose(null, kernel.startOp);
        } catch (NoDecision e) {
            abort(e);
            first = null;
        }
        if (first == null) {
            finished.countDown();
        } else {
            current = first;
            LockSupport.unpark(first.thread);
        }
        boolean done;
        try {
            done = finished.await(wallTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        if (!done) {
            Task stuck = current;
            recordFailure(new Failure.StepBoundExceeded("wall-clock time", wallTimeoutMillis,
                    (stuck == null ? "no task" : stuck.name()) + " ran " + wallTimeoutMillis
                            + " ms without reaching a scheduling point", SiteCapture.site(stuck, step)));
            if (stuck != null) {
                stuck.thread.interrupt();
            }
        }
        // Stop daemons and anything still parked, then let their threads unwind.
        stop();
        for (Task t : tasks) {
            try {
                t.thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new RunResult(kernel.seed(), strategy.describe(), failures, step, now, decisions,
                kernel.trace().events(), Optional.ofNullable(divergence),
                tasks.stream().map(Task::name).toList());
    }

    List<Failure> failures() {
        return failures;
    }
}
