package hmm4j.kernel.sched;

import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;

/**
 * {@code get_task_struct} / {@code put_task_struct} (include/linux/sched/task.h,
 * kernel/fork.c): references to a task's {@code struct task_struct} ({@code tsk->usage}) that
 * a driver holds to use a task beyond the moment it knew it alive (a worker acting for a
 * process, a device remembering its opener).
 *
 * <p>Overview. The task's own reference is implicit and lasts until the task has finished
 * (its exit and reaping); {@link #getTaskStruct} and {@link #putTaskStruct} count the others.
 * A task whose references were taken and all put again, and which has finished, is freed:
 * a later {@code get_task_struct}, {@code task_lock} or {@code get_task_mm} on it
 * ({@link #checkAccess}) is a use-after-free naming the first get (the allocation the driver
 * saw), the last put and the access. A put without a reference is a refcount underflow; a
 * reference still held when the run is over is a leak, named by its last get.
 *
 * <p>Locking: the counter is atomic and each get and put is a scheduling point on the task.
 *
 * <p>Differences from the kernel: the kernel frees the structure at the last put after
 * {@code release_task} (through RCU, {@code delayed_put_task_struct}); the model knows a
 * task's end, not its reaping, so a task never referenced by a driver is never "freed", and
 * only a driver's stale pointer to a task it referenced before is caught.
 */
public final class TaskStruct {
    private static final TaskKey<TaskStruct> USAGE = new TaskKey<>("tsk->usage");
    private static final Op.Kind GET = new Op.Kind("get_task_struct", Op.Access.WRITE);
    private static final Op.Kind PUT = new Op.Kind("put_task_struct", Op.Access.WRITE);

    private final Task task;
    private final Op getOp;
    private final Op putOp;
    private int references;
    private Site firstGet;
    private Site lastGet;
    private Site lastPut;

    private TaskStruct(Task task) {
        this.task = task;
        Kernel k = task.kernel();
        Op.Target target = k.newTarget(task.name() + "->usage");
        this.getOp = Op.of(GET, target);
        this.putOp = Op.of(PUT, target);
        k.atQuiescence("task_struct references of " + task.name(), this::checkNoneHeld);
    }

    private static TaskStruct of(Task p) {
        synchronized (p) {
            TaskStruct ts = p.get(USAGE);
            if (ts == null) {
                ts = new TaskStruct(p);
                p.set(USAGE, ts);
            }
            return ts;
        }
    }

    /** {@code get_task_struct(p)}: one more reference to {@code p}; the caller knows it alive (it is current, or the caller holds a reference). */
    public static void getTaskStruct(Task p) {
        TaskStruct ts = of(p);
        Kernel k = p.kernel();
        k.point(ts.getOp);
        if (ts.reportIfFreed("get_task_struct")) {
            return;
        }
        Site site = k.site();
        synchronized (ts) {
            ts.references++;
            if (ts.firstGet == null) {
                ts.firstGet = site;
            }
            ts.lastGet = site;
        }
    }

    /** {@code put_task_struct(p)}: drops a reference taken by {@link #getTaskStruct}. Does not sleep. */
    public static void putTaskStruct(Task p) {
        TaskStruct ts = of(p);
        Kernel k = p.kernel();
        k.point(ts.putOp);
        Site site = k.site();
        String problem;
        synchronized (ts) {
            if (ts.references > 0) {
                ts.references--;
                ts.lastPut = site;
                return;
            }
            problem = "put_task_struct of " + p.name() + " without a reference"
                    + (ts.lastPut == null ? "" : "; the last reference was put by " + ts.lastPut);
        }
        k.report(new Failure.RefcountError(p.name() + "->usage", RefcountProblem.UNDERFLOW, problem, site));
    }

    /** The references held by drivers (tests and reports). */
    public static int references(Task p) {
        TaskStruct ts = p.get(USAGE);
        if (ts == null) {
            return 0;
        }
        synchronized (ts) {
            return ts.references;
        }
    }

    /**
     * An access to {@code p}'s {@code task_struct} named {@code access}: a use-after-free when
     * {@code p} has finished and every reference a driver took is put. Not a scheduling point.
     */
    public static void checkAccess(Task p, String access) {
        TaskStruct ts = p.get(USAGE);
        if (ts != null) {
            ts.reportIfFreed(access);
        }
    }

    private boolean reportIfFreed(String access) {
        Site allocated;
        Site freed;
        synchronized (this) {
            if (firstGet == null || references > 0 || task.state() != Task.State.DONE) {
                return false;
            }
            allocated = firstGet;
            freed = lastPut;
        }
        Kernel k = task.kernel();
        k.report(new Failure.UseAfterFree("task_struct of " + task.name() + " (exited)", access, allocated, freed, k.site()));
        return true;
    }

    private void checkNoneHeld() {
        Site get;
        int held;
        synchronized (this) {
            held = references;
            get = lastGet;
        }
        if (held > 0) {
            Kernel k = task.kernel();
            k.report(new Failure.RefcountError(task.name() + "->usage", RefcountProblem.LEAK,
                    held + " get_task_struct reference(s) of " + task.name() + " never put; the last taken by " + get, get));
        }
    }
}
