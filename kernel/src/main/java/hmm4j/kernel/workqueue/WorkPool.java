package hmm4j.kernel.workqueue;

import hmm4j.sim.Kernel;

/**
 * The lock of every workqueue and work of one kernel (the kernel's {@code pool->lock}, one
 * for the whole model): the monitor guarding pending flags, worklists, timers and sequence
 * numbers, and the home of {@code system_wq}. Never held across a scheduling point.
 */
final class WorkPool {
    private WorkqueueStruct systemWq;

    private WorkPool() {
    }

    static WorkPool of(Kernel kernel) {
        return kernel.component(WorkPool.class, WorkPool::new);
    }

    /** {@code system_wq}, created on first use (its workers start at its first queue). */
    synchronized WorkqueueStruct systemWq(Kernel kernel) {
        if (systemWq == null) {
            systemWq = new WorkqueueStruct(kernel, "events", 0, 0);
        }
        return systemWq;
    }

    /** Takes a pending work off its worklist or disarms its timer; the caller holds this monitor. */
    void unqueueLocked(WorkStruct work) {
        WorkqueueStruct wq = work.wq;
        if (work.timerArmed) {
            wq.timers.remove(work.delayed);
        } else {
            wq.worklist.remove(work);
        }
        work.pending = false;
        work.timerArmed = false;
    }
}
