package hmm4j.kernel.workqueue;

import hmm4j.check.lifetime.KObject;
import hmm4j.sim.Kernel;

/**
 * {@code struct delayed_work}: a work and the timer that queues it
 * (include/linux/workqueue.h, kernel/workqueue.c). The timer runs on the virtual clock: a
 * worker of the workqueue waits until the earliest deadline of its armed timers and then
 * puts the expired works on its worklist, so a delay costs no steps and time advances only
 * when nothing else can run.
 *
 * <p>The work stays pending from {@code queue_delayed_work} until a worker takes it;
 * {@code cancel_delayed_work_sync} disarms the timer or unqueues the work and waits for a
 * running execution, as {@code cancel_work_sync} does.
 */
public final class DelayedWork {
    private final WorkStruct work;
    /** The virtual time at which the timer fires; guarded by the WorkPool monitor. */
    long deadline;

    /** {@code INIT_DELAYED_WORK} on a work that is not embedded in a checked object. */
    public DelayedWork(Kernel kernel, String name, WorkFunc func) {
        this.work = new WorkStruct(kernel, name, func);
        this.work.delayed = this;
    }

    /** {@code INIT_DELAYED_WORK} on a work embedded in {@code container}. */
    public DelayedWork(KObject container, String name, WorkFunc func) {
        this.work = new WorkStruct(container, name, func);
        this.work.delayed = this;
    }

    /** {@code dwork->work}. */
    public WorkStruct work() {
        return work;
    }

    /** {@code schedule_delayed_work}: {@code queue_delayed_work} on {@code system_wq}. */
    public boolean scheduleDelayedWork(long delayNanos) {
        return WorkqueueStruct.systemWq(work.kernel).queueDelayedWork(this, delayNanos);
    }

    /**
     * {@code cancel_delayed_work_sync}: disarms the timer or takes the work off its queue,
     * and waits for a running execution. Returns true if it was pending. May sleep.
     */
    public boolean cancelDelayedWorkSync() {
        return work.cancelWorkSync();
    }

    /**
     * {@code flush_delayed_work}: if the timer is armed, queues the work now; then
     * {@code flush_work}. Returns true if it waited. May sleep.
     */
    public boolean flushDelayedWork() {
        WorkqueueStruct wq;
        synchronized (work.pool) {
            wq = work.timerArmed ? work.wq : null;
            if (wq != null) {
                wq.fireTimerLocked(this);
            }
        }
        if (wq != null) {
            wq.wakeWorkers();
        }
        return work.flushWork();
    }

    @Override
    public String toString() {
        return work.name();
    }
}
