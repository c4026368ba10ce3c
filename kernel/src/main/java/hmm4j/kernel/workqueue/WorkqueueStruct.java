package hmm4j.kernel.workqueue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.sched.Kthread;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.LockMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct workqueue_struct}: a queue of works and the kworkers that run them
 * (kernel/workqueue.c).
 *
 * <p>Overview: {@link #allocWorkqueue} creates the queue; its workers (daemon kernel
 * threads, so a run ends when the non-daemon tasks are done; the flushes and cancels that
 * wait for a work still wait) start at its first queue. A worker takes the oldest pending
 * work that is not running elsewhere, holds the workqueue's and then the work's
 * {@code lockdep_map} around the work function, and wakes the work's flushers when it
 * returns. Armed timers of delayed works are kept on the queue; a worker waits until the
 * earliest deadline (virtual time) and moves the expired works to the worklist.
 *
 * <p>Locking: all state is guarded by the kernel's {@link WorkPool} monitor; workers wait
 * on the queue's channel, flushers of one work on that work's channel, flushers of the whole
 * queue and {@code destroy_workqueue} on the queue's channel.
 *
 * <p>Lifetime: {@code destroy_workqueue} drains the queue (works queued by its own works
 * while it drains still run), then stops the workers; a queue on a destroyed workqueue, or a
 * delayed work whose timer is still armed at the destroy, is reported (rule
 * workqueue.queue-on-destroyed).
 *
 * <p>Differences from the kernel: no per-CPU pools, rescuers or concurrency management: a
 * queue has {@code max_active} workers (2 when {@code max_active} is 0, at most 4), which
 * bounds the interleavings an exploration has to cover. The flags are recorded, not acted on.
 */
public final class WorkqueueStruct {
    /** {@code WQ_UNBOUND}. */
    public static final int WQ_UNBOUND = 1 << 1;
    /** {@code WQ_FREEZABLE}. */
    public static final int WQ_FREEZABLE = 1 << 2;
    /** {@code WQ_MEM_RECLAIM}. */
    public static final int WQ_MEM_RECLAIM = 1 << 3;
    /** {@code WQ_HIGHPRI}. */
    public static final int WQ_HIGHPRI = 1 << 4;
    /** {@code __WQ_ORDERED}: one work at a time, in queueing order. */
    public static final int WQ_ORDERED = 1 << 17;

    private static final Op.Kind FLUSH_WORKQUEUE = new Op.Kind("flush_workqueue", Op.Access.READ);
    private static final Op.Kind DESTROY_WORKQUEUE = new Op.Kind("destroy_workqueue", Op.Access.WRITE);
    private static final int DEFAULT_WORKERS = 2;
    private static final int MAX_WORKERS = 4;

    private final Kernel kernel;
    private final WorkPool pool;
    private final String name;
    private final int flags;
    private final int workers;
    final LockMap lockdepMap;
    private final Op.Target target;
    private final WaitChannel channel;
    private final Op flushOp;
    private final Op destroyOp;

    // ---- guarded by the WorkPool monitor ----
    final ArrayDeque<WorkStruct> worklist = new ArrayDeque<>();
    final List<DelayedWork> timers = new ArrayList<>();
    private final List<WorkStruct> running = new ArrayList<>();
    private boolean started;
    private boolean destroyed;

    WorkqueueStruct(Kernel kernel, String name, int flags, int maxActive) {
        this.kernel = kernel;
        this.pool = WorkPool.of(kernel);
        this.name = name;
        this.flags = flags;
        this.workers = (flags & WQ_ORDERED) != 0 ? 1 : maxActive <= 0 ? DEFAULT_WORKERS : Math.min(maxActive, MAX_WORKERS);
        this.lockdepMap = new LockMap(kernel, "(wq_completion)" + name);
        this.target = kernel.newTarget(name);
        this.channel = kernel.runtime().newChannel(name);
        this.flushOp = Op.of(FLUSH_WORKQUEUE, target);
        this.destroyOp = Op.of(DESTROY_WORKQUEUE, target);
    }

    /**
     * {@code alloc_workqueue}: a new workqueue. May sleep in the kernel; here it never fails.
     *
     * @param flags     {@code WQ_*} flags
     * @param maxActive the most works it runs at once; 0 for the default
     */
    public static WorkqueueStruct allocWorkqueue(Kernel kernel, String name, int flags, int maxActive) {
        return new WorkqueueStruct(kernel, name, flags, maxActive);
    }

    /** {@code alloc_ordered_workqueue}: one work at a time, in queueing order. */
    public static WorkqueueStruct allocOrderedWorkqueue(Kernel kernel, String name, int flags) {
        return new WorkqueueStruct(kernel, name, flags | WQ_ORDERED, 1);
    }

    /** {@code system_wq} of this kernel (named {@code events}, as the kernel's). */
    public static WorkqueueStruct systemWq(Kernel kernel) {
        return WorkPool.of(kernel).systemWq(kernel);
    }

    /** The queue's name. */
    public String name() {
        return name;
    }

    /** The {@code WQ_*} flags it was allocated with. */
    public int flags() {
        return flags;
    }

    boolean ordered() {
        return workers == 1;
    }

    /**
     * {@code queue_work}: makes {@code work} pending on this queue. Returns false, changing
     * nothing, if it was already pending (or a {@code cancel_work_sync} of it is running).
     * Does not sleep; callable from atomic context. Touches the work's container.
     */
    public boolean queueWork(WorkStruct work) {
        work.touch("queue_work");
        kernel.point(work.queueOp);
        boolean queued;
        boolean refused;
        synchronized (pool) {
            refused = destroyed;
            if (refused) {
                queued = false;
            } else {
                queued = markPendingLocked(work);
                if (queued) {
                    worklist.addLast(work);
                }
            }
        }
        return afterQueue("queue_work", work, queued, refused);
    }

    /**
     * {@code queue_delayed_work}: arms the work's timer to queue it on this queue after
     * {@code delayNanos} of virtual time (at once when 0). Returns false if it was already
     * pending. Does not sleep.
     */
    public boolean queueDelayedWork(DelayedWork dwork, long delayNanos) {
        WorkStruct work = dwork.work();
        if (delayNanos <= 0) {
            return queueWork(work);
        }
        work.touch("queue_delayed_work");
        kernel.point(work.queueOp);
        boolean queued;
        boolean refused;
        synchronized (pool) {
            refused = destroyed;
            if (refused) {
                queued = false;
            } else {
                queued = markPendingLocked(work);
                if (queued) {
                    work.timerArmed = true;
                    dwork.deadline = kernel.runtime().nanoTime() + delayNanos;
                    timers.add(dwork);
                }
            }
        }
        return afterQueue("queue_delayed_work", work, queued, refused);
    }

    /**
     * The end of a queueing call {@code op} outside the pool's monitor: a queue the monitor
     * {@code refused} because the workqueue was destroyed is reported (in a task, does not
     * return), a newly pending work wakes a worker. {@code refused} is what the monitor saw,
     * not a second read of the flag, which a concurrent destroy could have changed since.
     */
    private boolean afterQueue(String op, WorkStruct work, boolean queued, boolean refused) {
        if (refused) {
            reportDestroyed(op + "(" + work.name() + ") on destroyed workqueue " + name);
            return false;
        }
        if (queued) {
            wakeWorkers();
        }
        return queued;
    }

    private boolean markPendingLocked(WorkStruct work) {
        if (work.pending || work.canceling > 0) {
            return false;
        }
        work.pending = true;
        work.wq = this;
        work.pendingSeq = ++work.lastSeq;
        return true;
    }

    /** Moves an armed delayed work to the worklist (its timer fired); the caller holds the pool monitor. */
    void fireTimerLocked(DelayedWork dwork) {
        timers.remove(dwork);
        dwork.work().timerArmed = false;
        worklist.addLast(dwork.work());
    }

    /** Starts the workers at the first queue (spawning is a scheduling point: never under the monitor), then wakes them. */
    void wakeWorkers() {
        boolean start;
        synchronized (pool) {
            start = !started;
            started = true;
        }
        if (start) {
            for (int i = 0; i < workers; i++) {
                kernel.spawnDaemon("kworker/" + name + "/" + i, this::workerLoop);
            }
        }
        channel.wakeAll();
    }

    /**
     * {@code flush_workqueue}: waits until every work pending (not on an armed timer) or
     * running on this queue at the call has finished. May sleep; acquires the queue's lockdep
     * map, so a caller holding a lock that one of its works takes is a lock-order report.
     */
    public void flushWorkqueue() {
        kernel.syncObserver().mightSleep(kernel.current(), flushOp.label());
        kernel.point(flushOp);
        lockdepMap.acquire();
        lockdepMap.release();
        List<WorkStruct> works = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        synchronized (pool) {
            for (WorkStruct w : worklist) {
                works.add(w);
                seqs.add(w.pendingSeq);
            }
            for (WorkStruct w : running) {
                works.add(w);
                seqs.add(w.runningSeq);
            }
        }
        channel.await(target, () -> {
            synchronized (pool) {
                for (int i = 0; i < works.size(); i++) {
                    if (works.get(i).doneSeq < seqs.get(i)) {
                        return false;
                    }
                }
                return true;
            }
        }, "flush_workqueue(" + name + ") waiting for its works", WaitChannel.FOREVER);
    }

    /**
     * {@code destroy_workqueue}: drains the queue (waits until no work is pending on its
     * worklist or running, including works its works queue meanwhile), then stops its
     * workers; afterwards any queue on it is reported. May sleep.
     */
    public void destroyWorkqueue() {
        kernel.syncObserver().mightSleep(kernel.current(), destroyOp.label());
        kernel.point(destroyOp);
        lockdepMap.acquire();
        lockdepMap.release();
        channel.await(target, () -> {
            synchronized (pool) {
                return worklist.isEmpty() && running.isEmpty();
            }
        }, "destroy_workqueue(" + name + ") draining", WaitChannel.FOREVER);
        String armed;
        synchronized (pool) {
            destroyed = true;
            armed = timers.isEmpty() ? null : timers.toString();
        }
        channel.wakeAll();
        if (armed != null) {
            reportDestroyed("destroy_workqueue(" + name + ") with the timers of " + armed
                    + " armed: they would queue on the destroyed workqueue");
        }
    }

    private void reportDestroyed(String detail) {
        kernel.report(new Failure.InvariantViolation(KernelRules.WQ_QUEUE_ON_DESTROYED, detail, kernel.site()));
    }

    // ---- the workers ----

    private void workerLoop(Task self) {
        while (true) {
            WorkStruct work = awaitWork(self);
            if (work == null) {
                return;
            }
            execute(self, work);
        }
    }

    /** Waits for a work to run (or the queue's destruction, then null); the work is taken. */
    private WorkStruct awaitWork(Task self) {
        while (true) {
            long deadline;
            synchronized (pool) {
                WorkStruct w = takeLocked(self);
                if (w != null) {
                    return w;
                }
                if (destroyed) {
                    return null;
                }
                deadline = earliestDeadlineLocked();
            }
            long timeout = deadline == Long.MAX_VALUE ? WaitChannel.FOREVER
                    : Math.max(0, deadline - kernel.runtime().nanoTime());
            // The idle kworker is switched out: a lazy-TLB mm a work left it with goes.
            Kthread.lazyTlbSwitchOut(kernel);
            channel.await(target, () -> {
                synchronized (pool) {
                    return destroyed || earliestDeadlineLocked() != deadline || runnableLocked() != null;
                }
            }, "kworker/" + name + " waiting for work", timeout);
        }
    }

    private long earliestDeadlineLocked() {
        long min = Long.MAX_VALUE;
        for (DelayedWork d : timers) {
            min = Math.min(min, d.deadline);
        }
        return min;
    }

    private WorkStruct runnableLocked() {
        for (WorkStruct w : worklist) {
            if (w.runningOn == null) {
                return w;
            }
        }
        return null;
    }

    private WorkStruct takeLocked(Task self) {
        long now = kernel.runtime().nanoTime();
        for (DelayedWork d : new ArrayList<>(timers)) {
            if (d.deadline <= now) {
                fireTimerLocked(d);
            }
        }
        WorkStruct w = runnableLocked();
        if (w == null) {
            return null;
        }
        worklist.remove(w);
        w.pending = false;
        w.runningOn = self;
        w.runningSeq = w.pendingSeq;
        running.add(w);
        return w;
    }

    /** {@code process_one_work}: runs the work under the queue's and the work's lockdep maps. */
    private void execute(Task self, WorkStruct work) {
        try {
            kernel.point(work.executeOp);
            work.touch("process_one_work");
            lockdepMap.acquire();
            work.lockdepMap.acquire();
            try {
                work.func().run(work);
            } finally {
                work.lockdepMap.release();
                lockdepMap.release();
            }
        } finally {
            WorkqueueStruct requeuedOn;
            synchronized (pool) {
                work.doneSeq = work.runningSeq;
                work.runningOn = null;
                running.remove(work);
                requeuedOn = work.pending && work.wq != this ? work.wq : null;
            }
            work.channel.wakeAll();
            channel.wakeAll();
            if (requeuedOn != null) {
                requeuedOn.channel.wakeAll();
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
