package hmm4j.kernel.mm;

import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.sync.SpinLock;

/**
 * {@code task_lock} / {@code task_unlock} (include/linux/sched/task.h): the per-task
 * {@code alloc_lock} spinlock, which guards {@code tsk->mm} against the task's own
 * {@code exit_mm} so that {@code get_task_mm} can read it and take {@code mm_users} in one
 * step.
 *
 * <p>Overview. The lock lives in a slot of the task ({@link #ALLOC_LOCK}), created on its
 * first use (most tasks are never looked at by another), with the lockdep class
 * {@code &p->alloc_lock} shared by every task, as in the kernel. {@link Exit#exitMm} clears
 * {@code tsk->mm} under it and {@link MmStruct#getTaskMm} reads it and takes its reference
 * under it, so a {@code get_task_mm} that found the mm always finds {@code mm_users > 0}.
 *
 * <p>Locking: a spinlock; holding it is atomic context (no sleeping call inside).
 *
 * <p>Differences from the kernel: the kernel's {@code alloc_lock} also guards
 * {@code files}, {@code fs}, {@code comm} and more; the model has only {@code mm}.
 */
public final class TaskLock {
    /** {@code tsk->alloc_lock}. */
    public static final TaskKey<SpinLock> ALLOC_LOCK = new TaskKey<>("tsk->alloc_lock");

    private TaskLock() {
    }

    /** {@code task_lock(p)}: takes {@code p->alloc_lock}. A scheduling point; the caller may not sleep until {@link #taskUnlock}. */
    public static void taskLock(Task p) {
        hmm4j.kernel.sched.TaskStruct.checkAccess(p, "task_lock");
        allocLock(p).lock();
    }

    /** {@code task_unlock(p)}: releases {@code p->alloc_lock}; pairs with {@link #taskLock}. */
    public static void taskUnlock(Task p) {
        allocLock(p).unlock();
    }

    /** {@code p->alloc_lock}, created on first use. */
    public static SpinLock allocLock(Task p) {
        SpinLock lock = p.get(ALLOC_LOCK);
        if (lock != null) {
            return lock;
        }
        synchronized (p) {
            lock = p.get(ALLOC_LOCK);
            if (lock == null) {
                lock = new SpinLock(p.kernel(), "&p->alloc_lock", p.name() + "->alloc_lock");
                p.set(ALLOC_LOCK, lock);
            }
            return lock;
        }
    }

    /** {@code get_task_mm} ({@link MmStruct#getTaskMm}): {@code tsk->mm} read and pinned under {@code task_lock}. */
    static MmStruct getTaskMm(Task task) {
        hmm4j.kernel.sched.TaskStruct.checkAccess(task, "get_task_mm");
        if (task.isKthread()) {
            task.kernel().mark(MmStruct.GET_TASK_MM_NULL);
            return null;
        }
        taskLock(task);
        MmStruct mm;
        try {
            mm = MmStruct.of(task);
            if (mm != null) {
                mm.mmget();
            }
        } finally {
            taskUnlock(task);
        }
        if (mm == null) {
            task.kernel().mark(MmStruct.GET_TASK_MM_NULL);
        }
        return mm;
    }
}
