package hmm4j.kernel.sched;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Exit;
import hmm4j.kernel.mm.Fork;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunAborted;
import hmm4j.sim.Task;
import hmm4j.sim.TaskBody;

/**
 * A user process: a user task with its own address space ({@code mm_users == 1}, held by
 * the task), either new ({@link #spawn}) or duplicated from the forking task's
 * ({@link #fork}, kernel/fork.c {@code copy_mm} without {@code CLONE_VM}). When the body
 * returns the task exits: {@code exit_mm} drops its address space reference, which tears
 * the address space down if it was the last one. A body that throws is reported at the
 * throw, before its exit.
 */
public final class Process {
    private Process() {
    }

    /**
     * Spawns a process task named {@code name} with a fresh mm; {@code body} is the task's
     * code (it maps and fills its memory itself, as a C test program does). A body that
     * throws is reported as the task's failure at the throw, before it exits its mm.
     *
     * @return the task; its mm is {@code MmStruct.of(task)} until it exits
     */
    public static Task spawn(Kernel kernel, String name, TaskBody body) {
        MmStruct mm = MmStruct.mmAlloc(kernel, RefHandle.current(kernel));
        return kernel.spawnUser(name, exitingMm(body), t -> adopt(t, mm));
    }

    /**
     * {@code fork}: the calling process task {@code parent} creates a child task named
     * {@code childName} running {@code body}, whose mm is a copy-on-write duplicate of the
     * parent's ({@link Fork#dupMm}, run here in the parent's context with the parent's mmap
     * lock held for write). The child exits its mm when its body returns, as a spawned
     * process does. May sleep.
     *
     * @return the child task
     * @throws IllegalStateException if {@code parent} is not the calling task or has no mm,
     *         or if the copy failed (use {@link #tryFork} where fork may fail)
     */
    public static Task fork(Task parent, String childName, TaskBody body) {
        ErrPtr<Task> child = tryFork(parent, childName, body);
        if (child.isErr()) {
            throw new IllegalStateException("fork of " + parent.name() + " failed: " + child);
        }
        return child.get();
    }

    /**
     * {@link #fork} with the kernel's failure: {@code -ENOMEM} when {@code dup_mm} fails (in
     * the model, only at a device-exclusive page whose lock another task holds), in which case
     * no child exists and the partial mm has been released.
     *
     * @return the child task, or {@code -ENOMEM}
     * @throws IllegalStateException if {@code parent} is not the calling task or has no mm
     */
    public static ErrPtr<Task> tryFork(Task parent, String childName, TaskBody body) {
        Kernel kernel = parent.kernel();
        if (kernel.current() != parent) {
            throw new IllegalStateException("fork must be called by the forking task, not by "
                    + (kernel.current() == null ? "<main>" : kernel.current().name()));
        }
        MmStruct oldmm = MmStruct.of(parent);
        if (parent.isKthread() || oldmm == null) {
            throw new IllegalStateException(parent.name() + " has no address space to duplicate");
        }
        ErrPtr<MmStruct> mm = Fork.dupMm(oldmm);
        if (mm.isErr()) {
            return ErrPtr.err(mm.ptrErr());
        }
        return ErrPtr.of(kernel.spawnUser(childName, exitingMm(body), t -> adopt(t, mm.get())));
    }

    /**
     * Makes {@code mm} the new task {@code t}'s own: {@code tsk->mm}, and the {@code mm_users}
     * reference the calling context holds for it handed to {@code t} (by identity).
     */
    static void adopt(Task t, MmStruct mm) {
        t.set(MmStruct.TASK_MM, mm);
        mm.transferUsersRef(t);
    }

    /**
     * {@code body}, followed by {@code exit_mm} whether it returns or throws (also for threads
     * of a process). An exception is reported when the body throws it, before {@code exit_mm}
     * ({@link Kernel#reportTaskException}): the exit could block on a lock the body still held
     * and bury the exception under a deadlock or lockdep report. In a controlled run the run
     * ends there; natively the exit still runs.
     */
    static TaskBody exitingMm(TaskBody body) {
        return self -> {
            try {
                body.run(self);
            } catch (RunAborted stopped) {
                throw stopped;
            } catch (Exception e) {
                self.kernel().reportTaskException(e);
                Exit.exitMm(self);
                throw e;
            }
            Exit.exitMm(self);
        };
    }
}
