package hmm4j.sim;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Real parallelism: every task is a platform thread and a {@link WaitChannel} is a
 * {@link ReentrantLock} with a {@link Condition}. Scheduling points cost nothing. Failures
 * are collected and the run continues. A run that does not finish within its wall-clock
 * bound is reported as a deadlock (every unfinished task blocked on a channel) or as an
 * exceeded bound, and its threads are left behind as daemons rather than hanging the tool.
 */
@HiddenFromSites
final class NativeRuntime implements Runtime {
    private final Kernel kernel;
    private final long wallTimeoutMillis;
    private final ThreadLocal<Task> currentTask = new ThreadLocal<>();
    private final List<Task> tasks = new CopyOnWriteArrayList<>();
    private final List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
    private final long startNanos = System.nanoTime();
    private volatile boolean started;

    NativeRuntime(Kernel kernel, long wallTimeoutMillis) {
        this.kernel = kernel;
        this.wallTimeoutMillis = wallTimeoutMillis;
    }

    @Override
    public boolean isControlled() {
        return false;
    }

    @Override
    public Task current() {
        return currentTask.get();
    }

    @Override
    public void point(Op op) {
        // Real threads interleave on their own.
    }

    @Override
    public long nanoTime() {
        return System.nanoTime() - startNanos;
    }

    @Override
    public long step() {
        return 0;
    }

    @Override
    public WaitChannel newChannel(String name) {
        return new Channel();
    }

    @Override
    public void start(Task task) {
        task.exitChannel = newChannel("exit of " + task.name());
        task.state = Task.State.RUNNABLE;
        task.thread = Thread.ofPlatform().daemon().name(task.name()).unstarted(() -> taskMain(task));
        tasks.add(task);
        if (started) {
            task.thread.start();
        }
    }

    private void taskMain(Task t) {
        currentTask.set(t);
        try {
            t.body.run(t);
            t.runExitHooks();
        } catch (RunAborted e) {
            // not used natively, but harmless
        } catch (Throwable e) {
            if (e != t.reportedThrow) {
                fail(kernel.unexpected(t, e));
            }
        } finally {
            t.state = Task.State.DONE;
            t.exitChannel.wakeAll();
        }
    }

    @Override
    public void joinTask(Task task) {
        kernel.syncObserver().mightSleep(current(), "join(" + task.name() + ")");
        task.exitChannel.await(task.target(), () -> task.state == Task.State.DONE, "join " + task.name(),
                WaitChannel.FOREVER);
    }

    @Override
    public void sleep(long nanos) {
        LockSupport.parkNanos(Math.max(0, nanos));
    }

    @Override
    public void taskThrew(Task t, Throwable e) {
        t.reportedThrow = e;
        fail(kernel.unexpected(t, e));
    }

    @Override
    public void fail(Failure failure) {
        failures.add(failure);
    }

    private final class Channel implements WaitChannel {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();

        @Override
        public boolean await(Op.Target on, BooleanSupplier ready, String reason, long timeoutNanos) {
            Task t = current();
            lock.lock();
            try {
                long remaining = timeoutNanos;
                while (!ready.getAsBoolean()) {
                    if (timeoutNanos >= 0 && remaining <= 0) {
                        return false;
                    }
                    if (t != null) {
                        t.state = Task.State.BLOCKED;
                        t.blockedOn = reason;
                    }
                    try {
                        if (timeoutNanos >= 0) {
                            remaining = changed.awaitNanos(remaining);
                        } else {
                            changed.await();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new RunAborted();
                    } finally {
                        if (t != null) {
                            t.state = Task.State.RUNNABLE;
                            t.blockedOn = null;
                        }
                    }
                }
                return true;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void wakeAll() {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    @Override
    public RunResult run() {
        started = true;
        for (Task t : tasks) {
            t.thread.start();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wallTimeoutMillis);
        boolean complete = false;
        while (!complete) {
            complete = true;
            for (Task t : tasks) {
                if (t.isDaemon() || t.state == Task.State.DONE) {
                    continue;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    complete = false;
                    break;
                }
                try {
                    t.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    left = 0;
                }
                if (t.state != Task.State.DONE) {
                    complete = false;
                }
            }
            if (!complete && System.nanoTime() - deadline >= 0) {
                reportStuck();
                break;
            }
        }
        return new RunResult(kernel.seed(), "native", failures, 0, nanoTime(), List.of(),
                kernel.trace().events(), Optional.empty(), tasks.stream().map(Task::name).toList());
    }

    private void reportStuck() {
        List<String> blocked = new ArrayList<>();
        boolean allBlocked = true;
        for (Task t : tasks) {
            if (t.isDaemon() || t.state == Task.State.DONE) {
                continue;
            }
            if (t.state == Task.State.BLOCKED) {
                blocked.add(t.name() + " blocked on " + t.blockedOn);
            } else {
                allBlocked = false;
                blocked.add(t.name() + " running");
            }
        }
        Site site = new Site("<main>", 0, List.of());
        if (allBlocked) {
            failures.add(new Failure.Deadlock(blocked, site));
        } else {
            failures.add(new Failure.StepBoundExceeded("wall-clock time", wallTimeoutMillis,
                    String.join("; ", blocked), site));
        }
    }
}
