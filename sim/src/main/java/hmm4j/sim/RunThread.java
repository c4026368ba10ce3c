package hmm4j.sim;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * A platform thread that runs one controlled run at a time, and the watchdog of that run.
 *
 * <p>Overview: the continuation runtime drives every task of a run from one thread. A task
 * that never reaches a scheduling point (a loop) or that blocks outside the model (a real
 * {@code Thread.sleep}, {@code Object.wait} or {@code java.util.concurrent} lock) then
 * holds that thread, and Java cannot take a thread back. So the run does not execute on the
 * caller's thread but on a run thread taken from a pool, while the caller watches it:
 *
 * <ul>
 *   <li>the caller hands the run over ({@link #execute}) and parks until the run thread
 *       says it is done: two wake-ups per run, none per decision;</li>
 *   <li>while it waits it looks, every {@value #POLL_MILLIS} ms, at the run thread's state
 *       and the run's progress (its step count): waiting, timed-waiting or blocked with no
 *       progress for the blocked bound, or runnable in a native method (I/O) with no progress
 *       for as long, is a task blocked outside the model; the run not
 *       done within the wall-clock bound is a runaway;</li>
 *   <li>on either verdict the run thread is abandoned: interrupted once the verdict is
 *       recorded ({@link #interruptAbandoned}, which ends most real waits), never returned
 *       to the pool, and left to end by itself; the next run takes
 *       another thread. So a runaway costs that thread (and, while it spins, a core), never
 *       the JVM: later runs and explorations in the same JVM run as before.</li>
 * </ul>
 *
 * <p>Worker mode ({@link #work}, for an explorer's worker, public as {@link RunWorker}): the
 * two wake-ups per run are the cost of a small run (measured: a worker's runs ~1.4x faster
 * without them, and two workers filling two cores instead of 1.8), so a worker hands its whole
 * loop to one run thread instead, and every controlled run started on that thread executes
 * inline ({@link #currentWorker}), registered as the watched run while it drives its tasks
 * ({@link #beginWatched}, {@link #endWatched}). The worker's own thread is the watchdog: it
 * looks, every {@value #POLL_MILLIS} ms, at the watched run, with the same verdicts as
 * above, measured from that run's start; between runs (the next run's set-up, the worker
 * waiting for a lane) nothing is watched. A verdict is taken against the run's end by one
 * compare-and-set on the run ({@link ControlledRuntime#tryAbandon}): if the watchdog wins,
 * it records the verdict, hands the run's result to the worker's
 * {@link RunWorker.OnAbandoned}, and starts the worker's loop again on a new run thread; the
 * abandoned thread, should its task ever return, waits until that hand-over is complete and
 * unwinds with {@link RunAbandoned}, touching nothing of the worker's. So a runaway still
 * costs one thread, never the worker, the exploration or the JVM.
 *
 * <p>Idle run threads wait in a last-in-first-out pool and retire after
 * {@value #IDLE_MILLIS} ms unused, so a JVM that ran explorations from many threads does not
 * keep one thread per caller.
 */
@HiddenFromSites
final class RunThread {
    static final long POLL_MILLIS = 50;
    static final long IDLE_MILLIS = 5_000;
    private static final int IDLE = 0;
    private static final int CLAIMED = 1;
    private static final int RETIRED = 2;
    private static final ConcurrentLinkedDeque<RunThread> POOL = new ConcurrentLinkedDeque<>();
    private static final AtomicInteger NUMBER = new AtomicInteger();
    /** The run thread each thread is (set on a run thread for its life), else null. */
    private static final ThreadLocal<RunThread> CURRENT = new ThreadLocal<>();

    /** How a run ended, as the watchdog saw it. */
    enum Outcome { DONE, RUNAWAY, BLOCKED }

    /** The outcome, and for a verdict the run thread's state and stack when it was given. */
    record Verdict(Outcome outcome, Thread.State state, StackTraceElement[] stack) {
    }

    private final Thread thread;
    private final AtomicInteger state = new AtomicInteger(CLAIMED);
    private volatile Runnable job;
    private volatile boolean busy;
    private volatile boolean done;
    private volatile boolean abandoned;
    private volatile Thread caller;
    /** Worker mode: the thread runs a worker's loop, its runs inline. */
    private volatile boolean worker;
    /** Worker mode: the run driving its tasks on this thread now, or null. */
    private volatile ControlledRuntime watched;
    /** Worker mode: set once the watchdog has handed an abandoned run's result over. */
    private volatile boolean abandonHandled;
    /** Worker mode: what the worker's loop threw, to be thrown again on the worker's thread. */
    private volatile Throwable bodyThrew;
    /** The watching thread was interrupted during the watch (its flag kept here meanwhile). */
    private boolean callerInterrupted;

    private RunThread() {
        thread = Thread.ofPlatform().daemon().name("hmm4j-run-" + NUMBER.incrementAndGet()).unstarted(this::loop);
        thread.start();
    }

    /** Gives this thread {@code r} to run for the calling thread, which then watches it. */
    private void handOver(Runnable r) {
        done = false;
        busy = false;
        caller = Thread.currentThread();
        // Code sites resolve classes through the context loader: the caller's, as on its own thread.
        thread.setContextClassLoader(caller.getContextClassLoader());
        job = r;
        LockSupport.unpark(thread);
    }

    /** The watch ended with the thread's job done: the thread waits in the pool for the next caller. */
    private void backToPool() {
        state.set(IDLE);
        POOL.offerFirst(this);
    }

    /** An idle run thread of the pool, claimed for the caller, or a new one. */
    static RunThread claim() {
        RunThread r;
        while ((r = POOL.pollFirst()) != null) {
            if (r.state.compareAndSet(IDLE, CLAIMED)) {
                return r;
            }
        }
        return new RunThread();
    }

    /** The platform thread. */
    Thread thread() {
        return thread;
    }

    /** True when the calling thread is this run thread. */
    boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    /**
     * Runs {@code run} on this thread and waits for it, at most {@code wallMillis}; a run
     * whose thread waits outside the model with no progress for {@code blockedMillis} is
     * given up as blocked. {@code progress} is read from this thread while the run goes on
     * (a racy read of a counter is enough to see that it moves).
     */
    Verdict execute(Runnable run, long wallMillis, long blockedMillis, LongSupplier progress) {
        try {
            return watchRun(run, wallMillis, blockedMillis, progress);
        } finally {
            restoreInterrupt();
        }
    }

    private Verdict watchRun(Runnable run, long wallMillis, long blockedMillis, LongSupplier progress) {
        handOver(run);
        long start = System.nanoTime();
        long wallNanos = TimeUnit.MILLISECONDS.toNanos(wallMillis);
        long blockedNanos = TimeUnit.MILLISECONDS.toNanos(blockedMillis);
        long pollNanos = TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS);
        long blockedSince = -1;
        long lastProgress = progress.getAsLong();
        while (!done) {
            long now = System.nanoTime();
            long left = start + wallNanos - now;
            if (left <= 0) {
                return abandon(Outcome.RUNAWAY);
            }
            LockSupport.parkNanos(this, Math.min(left, pollNanos));
            noteInterrupt();
            if (done) {
                break;
            }
            long p = progress.getAsLong();
            boolean waiting = busy && waitsOutside(p, lastProgress);
            now = System.nanoTime();
            if (!waiting) {
                blockedSince = -1;
            } else if (blockedSince < 0) {
                blockedSince = now;
            } else if (now - blockedSince >= blockedNanos) {
                return abandon(Outcome.BLOCKED);
            }
            lastProgress = p;
        }
        backToPool();
        return new Verdict(Outcome.DONE, Thread.State.RUNNABLE, new StackTraceElement[0]);
    }

    /**
     * The run thread the calling thread is, when it runs a worker's loop in worker mode and no
     * run is being driven on it; else null. A run started from inside another one (a task
     * that runs a kernel of its own) is handed to a run thread of its own, as outside a worker,
     * so that the outer run stays the watched one.
     */
    static RunThread currentWorker() {
        RunThread r = CURRENT.get();
        return r != null && r.worker && r.watched == null ? r : null;
    }

    /**
     * Worker mode, on the worker's thread: runs {@code body} on a run thread, its runs inline
     * and watched from here, and returns when {@code body} does (throwing again what it
     * threw). When a run is given up, {@code onAbandoned} gets its result here and
     * {@code body} is run again on a new run thread, to carry the worker's loop on.
     */
    static void work(Runnable body, RunWorker.OnAbandoned onAbandoned, Runnable onInterrupted) {
        while (true) {
            RunThread r = claim();
            boolean ended;
            try {
                ended = r.watchWorker(body, onAbandoned, onInterrupted);
            } finally {
                r.restoreInterrupt();
            }
            if (ended) {
                return;
            }
            // The run thread was abandoned with a run: the loop goes on on another one.
        }
    }

    /**
     * After a park of the watchdog: an interrupt of the watching thread is taken off it (a
     * set interrupt would make every later park return at once, a watchdog spinning on its
     * core) and given back when the watch ends; true when there was one. It is never passed
     * on to the run thread, where it would reach a task's code and make a failure the run
     * does not have: a worker is told through its own state ({@link RunWorker}'s
     * {@code onInterrupted}).
     */
    private boolean noteInterrupt() {
        if (Thread.interrupted()) {
            callerInterrupted = true;
            return true;
        }
        return false;
    }

    private void restoreInterrupt() {
        if (callerInterrupted) {
            callerInterrupted = false;
            Thread.currentThread().interrupt();
        }
    }

    /** Worker mode: true when {@code body} ended, false when a run was given up (the thread abandoned). */
    private boolean watchWorker(Runnable body, RunWorker.OnAbandoned onAbandoned, Runnable onInterrupted) {
        bodyThrew = null;
        worker = true;
        handOver(() -> {
            try {
                body.run();
            } catch (RunAbandoned e) {
                // This thread's run was given up and handed over: the loop goes on elsewhere.
            } catch (Throwable e) {
                bodyThrew = e;
            }
        });
        long pollNanos = TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS);
        ControlledRuntime last = null;
        long blockedSince = -1;
        long lastProgress = -1;
        while (!done) {
            LockSupport.parkNanos(this, pollNanos);
            if (noteInterrupt()) {
                onInterrupted.run();
            }
            ControlledRuntime c = watched;
            if (done) {
                break;
            }
            if (c == null) {
                last = null;
                continue;
            }
            long now = System.nanoTime();
            if (c != last) {
                last = c;
                blockedSince = -1;
                lastProgress = c.step();
            }
            Outcome verdict = null;
            if (now - c.watchStart >= TimeUnit.MILLISECONDS.toNanos(c.wallTimeoutMillis)) {
                verdict = Outcome.RUNAWAY;
            } else {
                long p = c.step();
                boolean waiting = waitsOutside(p, lastProgress);
                if (!waiting) {
                    blockedSince = -1;
                } else if (blockedSince < 0) {
                    blockedSince = now;
                } else if (now - blockedSince >= TimeUnit.MILLISECONDS.toNanos(c.blockedMillis())) {
                    verdict = Outcome.BLOCKED;
                }
                lastProgress = p;
            }
            if (verdict != null && c.tryAbandon()) {
                Verdict v = abandon(verdict);
                try {
                    onAbandoned.abandoned(c.kernel(), c.abandoned(v));
                } finally {
                    abandonHandled = true;
                    LockSupport.unpark(thread);
                    interruptAbandoned();
                }
                return false;
            }
        }
        worker = false;
        Throwable e = bodyThrew;
        bodyThrew = null;
        backToPool();
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
        if (e != null) {
            throw new IllegalStateException(e);
        }
        return true;
    }

    /** Worker mode, on this thread: {@code c} starts driving its tasks. */
    void beginWatched(ControlledRuntime c) {
        c.watchStart = System.nanoTime();
        watched = c;
    }

    /**
     * Worker mode, on this thread: {@code c} has stopped driving its tasks. False when the
     * watchdog gave it up first: then this returns only once the watchdog has handed the run
     * over, and the caller must unwind ({@link RunAbandoned}) without touching the worker's state.
     */
    boolean endWatched(ControlledRuntime c) {
        watched = null;
        if (c.tryFinish()) {
            return true;
        }
        while (!abandonHandled) {
            LockSupport.park(this);
        }
        return false;
    }

    /**
     * True when the run made no progress since the last look ({@code progress} is still
     * {@code last}) and its thread waits outside the model: waiting, timed-waiting, blocked, or
     * runnable in a native method (I/O), and not inside the JDK's exit.
     */
    private boolean waitsOutside(long progress, long last) {
        if (progress != last) {
            return false;
        }
        Thread.State s = thread.getState();
        return (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.BLOCKED
                || s == Thread.State.RUNNABLE && inNativeCode()) && !exiting();
    }

    /**
     * True when the run thread is in a native method: a runnable thread that makes no
     * progress there waits on I/O (a read of a pipe, a socket, a terminal), which the JVM
     * shows as {@code RUNNABLE}; a loop in Java code is almost never caught in a native
     * frame at every look for the whole blocked bound.
     */
    private boolean inNativeCode() {
        StackTraceElement[] stack = thread.getStackTrace();
        return stack.length > 0 && stack[0].isNativeMethod();
    }

    /**
     * True when the run thread is inside the JDK's exit ({@code System.exit} waits there for
     * the shutdown hooks, one of which reports the run: {@link JvmExits}); that wait is the
     * JVM ending, not a task blocked outside the model, however long a loaded machine takes.
     */
    private boolean exiting() {
        return JvmExits.exitFrame(thread.getStackTrace()) >= 0;
    }

    private Verdict abandon(Outcome outcome) {
        Thread.State s = thread.getState();
        StackTraceElement[] stack = thread.getStackTrace();
        abandoned = true;
        return new Verdict(outcome, s, stack);
    }

    /**
     * Interrupts an abandoned run thread, which ends most real waits of its task; called once
     * the run has recorded its verdict (so the task, unwinding, cannot end the run first).
     */
    void interruptAbandoned() {
        if (abandoned) {
            thread.interrupt();
        }
    }

    private void loop() {
        CURRENT.set(this);
        while (true) {
            Runnable r = job;
            if (r == null) {
                if (abandoned) {
                    return;
                }
                long before = System.nanoTime();
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS));
                if (job == null && System.nanoTime() - before >= TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS)
                        && state.compareAndSet(IDLE, RETIRED)) {
                    return;
                }
                continue;
            }
            job = null;
            busy = true;
            try {
                r.run();
            } catch (Throwable e) {
                // The run reports its own failures; nothing may escape and kill the pool's thread.
            }
            busy = false;
            Thread.interrupted();
            done = true;
            LockSupport.unpark(caller);
            if (abandoned) {
                return;
            }
        }
    }
}
