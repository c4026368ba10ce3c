package hmm4j.kernel.workqueue;

import hmm4j.check.lifetime.KObject;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.sync.LockMap;
import java.util.Objects;

/**
 * {@code struct work_struct}: a function queued to run once on a kworker
 * (include/linux/workqueue.h, kernel/workqueue.c).
 *
 * <p>Overview: {@link #WorkStruct(Kernel, String, WorkFunc)} is {@code INIT_WORK}. A work is
 * <em>pending</em> from a successful {@code queue_work} until a worker takes it, then
 * <em>running</em> until its function returns; it is never run by two workers at once (a
 * pending work whose previous execution is still running waits for it). Each time the work
 * becomes pending it gets the next sequence number; an execution records the number it
 * took, and {@code flush_work} waits until the execution of the number pending or running at
 * the call has completed.
 *
 * <p>Locking: the state (pending, running, sequence numbers, the timer of a delayed work)
 * is guarded by the kernel's {@link WorkPool} monitor, as the kernel guards it with the
 * pool's lock; no scheduling point is taken under it. Flushers wait on the work's channel.
 *
 * <p>Lockdep: each work has a {@code lockdep_map} whose class is its name (in the kernel,
 * the {@code INIT_WORK} call site: works initialised with one name share a class). The
 * worker holds the workqueue's map and then the work's map around the function;
 * {@code flush_work} and {@code cancel_work_sync} acquire and release the work's map, so a
 * flush under a lock the function takes closes a cycle whichever runs first.
 *
 * <p>Lifetime: a work may be embedded in a {@link KObject} (its container, as
 * {@code container_of} finds the driver object); queueing, executing, flushing and
 * cancelling the work touch the container first, so any of them on a freed object is a
 * use-after-free with its three sites.
 *
 * <p>Differences from the kernel: no work data word, no per-CPU pools; the work remembers
 * the workqueue it was last queued on instead of a pool id.
 */
public final class WorkStruct {
    /** Coverage mark: {@code cancel_work_sync} took a pending work off its queue before it ran. */
    public static final Mark CANCEL_UNQUEUED = Mark.of("workqueue.cancel.unqueued",
            "cancel_work_sync took a pending work off its queue before a worker ran it");
    /** Coverage mark: {@code cancel_work_sync} found the work running and waited for it. */
    public static final Mark CANCEL_WAITED = Mark.of("workqueue.cancel.waited-for-running",
            "cancel_work_sync found the work running on a kworker and waited for it to finish");
    private static final Op.Kind FLUSH_WORK = new Op.Kind("flush_work", Op.Access.READ);
    private static final Op.Kind CANCEL_WORK_SYNC = new Op.Kind("cancel_work_sync", Op.Access.WRITE);
    private static final Op.Kind QUEUE_WORK = new Op.Kind("queue_work", Op.Access.WRITE);
    private static final Op.Kind PROCESS_ONE_WORK = new Op.Kind("process_one_work", Op.Access.WRITE);

    final Kernel kernel;
    final WorkPool pool;
    private final String name;
    private final WorkFunc func;
    private final KObject container;
    final LockMap lockdepMap;
    final Op.Target target;
    final WaitChannel channel;
    private final Op flushOp;
    private final Op cancelOp;
    final Op queueOp;
    final Op executeOp;
    /** The delayed work this work is embedded in, or null. */
    DelayedWork delayed;

    // ---- guarded by the WorkPool monitor ----
    boolean pending;
    /** True while a delayed work's timer is armed (pending too, not yet on a worklist). */
    boolean timerArmed;
    int canceling;
    Task runningOn;
    WorkqueueStruct wq;
    long lastSeq;
    long pendingSeq;
    long runningSeq;
    long doneSeq;

    /**
     * {@code INIT_WORK}: a work that is not embedded in a checked object.
     *
     * @param kernel the kernel it runs in
     * @param name   its name in reports and the class of its lockdep map
     * @param func   what it runs
     */
    public WorkStruct(Kernel kernel, String name, WorkFunc func) {
        this(kernel, null, name, func);
    }

    /** {@code INIT_WORK} on a work embedded in {@code container} (touched by every operation). */
    public WorkStruct(KObject container, String name, WorkFunc func) {
        this(container.kernel(), container, name, func);
    }

    private WorkStruct(Kernel kernel, KObject container, String name, WorkFunc func) {
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.container = container;
        this.name = Objects.requireNonNull(name, "name");
        this.func = Objects.requireNonNull(func, "func");
        this.lockdepMap = new LockMap(kernel, "(work_completion)(" + name + ")");
        this.target = kernel.newTarget(name);
        this.channel = kernel.runtime().newChannel(name);
        this.flushOp = Op.of(FLUSH_WORK, target);
        this.cancelOp = Op.of(CANCEL_WORK_SYNC, target);
        this.queueOp = Op.of(QUEUE_WORK, target);
        this.executeOp = Op.of(PROCESS_ONE_WORK, target);
        this.pool = WorkPool.of(kernel);
    }

    /** The work's name. */
    public String name() {
        return name;
    }

    /** The object the work is embedded in, or null. */
    public KObject container() {
        return container;
    }

    WorkFunc func() {
        return func;
    }

    /** {@code work_pending}: queued (or its timer armed) and not yet taken by a worker. */
    public boolean workPending() {
        synchronized (pool) {
            return pending;
        }
    }

    /**
     * {@code schedule_work}: {@code queue_work} on {@code system_wq}. Returns false if the
     * work was already pending. Does not sleep.
     */
    public boolean scheduleWork() {
        return WorkqueueStruct.systemWq(kernel).queueWork(this);
    }

    /** {@code work_busy}-like: pending or running. */
    public boolean workBusy() {
        synchronized (pool) {
            return pending || runningOn != null;
        }
    }

    /** Touches the embedding object before an operation on the work. Not a scheduling point. */
    void touch(String access) {
        if (container != null) {
            container.checkAccess(access, name);
        }
    }

    /**
     * {@code flush_work}: waits until the execution of the work that was queued or running
     * at the call has finished. Returns true if it waited, false if the work was idle (or
     * only its timer was armed). Must be called from process context: may sleep. Acquires the
     * work's lockdep map, so a caller holding a lock the work function takes is a lock-order
     * report; on an ordered workqueue it also acquires the workqueue's map, as a flush from
     * a work of the same ordered queue deadlocks.
     */
    public boolean flushWork() {
        touch("flush_work");
        kernel.syncObserver().mightSleep(kernel.current(), flushOp.label());
        kernel.point(flushOp);
        lockdepMap.acquire();
        lockdepMap.release();
        long waitFor;
        WorkqueueStruct on;
        synchronized (pool) {
            waitFor = pending && !timerArmed ? pendingSeq : runningOn != null ? runningSeq : 0;
            on = wq;
        }
        if (waitFor == 0) {
            return false;
        }
        if (on != null && on.ordered()) {
            on.lockdepMap.acquire();
            on.lockdepMap.release();
        }
        awaitDone(waitFor, "flush_work");
        return true;
    }

    /**
     * {@code cancel_work_sync}: takes the work off its queue if it is pending and waits for
     * a running execution to finish; while it runs, {@code queue_work} of this work fails.
     * Returns true if the work was pending. May sleep; acquires the work's lockdep map as
     * {@link #flushWork} does.
     */
    public boolean cancelWorkSync() {
        touch("cancel_work_sync");
        kernel.syncObserver().mightSleep(kernel.current(), cancelOp.label());
        kernel.point(cancelOp);
        boolean wasPending;
        long waitFor;
        synchronized (pool) {
            wasPending = pending;
            if (pending) {
                pool.unqueueLocked(this);
            }
            waitFor = runningOn != null ? runningSeq : 0;
            canceling++;
        }
        if (wasPending) {
            kernel.mark(CANCEL_UNQUEUED);
        }
        try {
            lockdepMap.acquire();
            lockdepMap.release();
            if (waitFor != 0) {
                kernel.mark(CANCEL_WAITED);
                awaitDone(waitFor, "cancel_work_sync");
            }
        } finally {
            synchronized (pool) {
                canceling--;
            }
        }
        return wasPending;
    }

    private void awaitDone(long seq, String op) {
        String reason = op + "(" + name + ") waiting for " + name + " to finish";
        channel.await(target, () -> {
            synchronized (pool) {
                return doneSeq >= seq;
            }
        }, reason, WaitChannel.FOREVER);
    }

    @Override
    public String toString() {
        return name;
    }
}
