package hmm4j.sim;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
            if (aborted) {
                return;
            }
            String type = e.getClass().getSimpleName();
            record(t, "threw " + (type.isEmpty() ? e.getClass().getName() : type));
            recordFailure(kernel.unexpected(t, e));
            return;
        }
        if (aborted) {
            return;
        }
        t.state = Task.State.DONE;
        record(t, "exit");
        t.exitChannel.wakeAll();
        Task next;
        try {
            next = choose(t, "exit " + t.name());
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
        point("join " + task.name());
        task.exitChannel.await(() -> task.state == Task.State.DONE, "join " + task.name(), WaitChannel.FOREVER);
    }

    @Override
    public void sleep(long nanos) {
        Task t = requireCurrent();
        point("msleep");
        t.deadline = now + Math.max(0, nanos);
        t.timedOut = false;
        t.state = Task.State.BLOCKED;
        t.blockedOn = "msleep";
        transfer(t, choose(t, "sleep " + t.name()));
        t.timedOut = false;
    }

    // ---- scheduling ----

    @Override
    public void point(String op) {
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
        record(t, op);
        transfer(t, choose(t, op));
    }

    private void record(Task t, String op) {
        Trace trace = kernel.trace();
        if (!trace.enabled()) {
            return;
        }
        if (!kernel.sitesEnabled()) {
            trace.add(new TraceEvent(step, t.id(), t.name(), op, ""));
            return;
        }
        StackWalker.StackFrame f = SiteCapture.innermost();
        trace.add(new TraceEvent(step, t.id(), t.name(), op, () -> SiteCapture.format(f)));
    }

    /**
     * Picks the next task after {@code from} reached a point, blocked or exited. Advances
     * virtual time when only timed waiters remain; returns null when the run is complete;
     * reports a deadlock when nothing can ever run again.
     */
    private Task choose(Task from, String op) {
        List<Task> enabled = enabledTasks();
        while (enabled.isEmpty()) {
            Task timed = earliestTimedWaiter();
            if (timed == null) {
                if (allNonDaemonsDone()) {
                    return null;
                }
                fail(deadlock());
            }
            if (timed.deadline > maxVirtualNanos) {
                fail(new Failure.StepBoundExceeded("virtual time", maxVirtualNanos,
                        timed.name() + " waits until " + timed.deadline + " ns", site(timed)));
            }
            now = Math.max(now, timed.deadline);
            timed.timedOut = true;
            wake(timed);
            enabled = enabledTasks();
        }
        if (++step > maxSteps) {
            fail(new Failure.StepBoundExceeded("steps", maxSteps,
                    "still running after " + maxSteps + " scheduling decisions (last: " + op + ")", site(from)));
        }
        int index;
        try {
            index = strategy.pick(new SchedulingPoint(step, from, enabled, op));
        } catch (ReplayDivergence e) {
            divergence = e.getMessage();
            stop();
            throw new RunAborted();
        }
        Task next = enabled.get(index);
        decisions.add(new Decision(step, next.id(), enabled.stream().map(Task::id).toList(), op));
        return next;
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
        return new Failure.Deadlock(blocked, site(current()));
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

        @Override
        public boolean await(BooleanSupplier ready, String reason, long timeoutNanos) {
            Task t = requireCurrent();
            long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : now + timeoutNanos;
            t.timedOut = false;
            boolean logged = false;
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
                if (ok) {
                    if (logged) {
                        record(t, "woken: " + reason);
                    }
                    return true;
                }
                if (t.timedOut || (timeoutNanos >= 0 && now >= deadline)) {
                    t.timedOut = false;
                    record(t, "timed out: " + reason);
                    return false;
                }
                t.state = Task.State.BLOCKED;
                t.blockedOn = reason;
                t.deadline = deadline;
                waiters.add(t);
                record(t, "blocked: " + reason);
                logged = true;
                transfer(t, choose(t, "block " + reason));
                waiters.remove(t);
            }
        }

        @Override
        public void wakeAll() {
            for (Task w : waiters) {
                wake(w);
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
            first = aborted ? null : choose(null, "start");
        } catch (RunAborted e) {
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
