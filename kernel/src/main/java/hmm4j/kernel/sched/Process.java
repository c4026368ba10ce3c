package hmm4j.kernel.sched;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.fs.FilesStruct;
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
 * ({@link #fork}, kernel/fork.c {@code copy_mm} without {@code CLONE_VM}; the child also gets
 * a copy of the parent's descriptor table, {@link FilesStruct#dupFd}). When the body returns,
 * calls {@link #exit} ({@code _exit}) or dies of a fatal signal ({@link Signal}), the task
 * exits: {@code exit_mm} drops its address space reference, which tears the address space
 * down if it was the last one, then {@code exit_files} drops its descriptor table, closing the
 * descriptors left; last its status word is set for {@link #waitpid}. A body that throws is
 * reported at the throw, before its exit, and exits with status 1.
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
     * process does. The child's descriptors are copies of the parent's, each with its own
     * file reference. May sleep.
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
        FilesStruct files = FilesStruct.dupFd(parent);
        return ErrPtr.of(kernel.spawnUser(childName, exitingMm(body), t -> {
            adopt(t, mm.get());
            FilesStruct.adopt(t, files);
        }));
    }

    /**
     * {@code _exit(code)} of the calling process task: leaves its code at once and exits with
     * {@code code} (does not return).
     */
    public static void exit(int code) {
        throw new Exited(code);
    }

    /**
     * {@code waitpid(pid, &status, 0)}: waits until the process task {@code child} has exited
     * and returns its pid and status. May sleep.
     */
    public static WaitStatus waitpid(Task child) {
        child.join();
        Integer status = child.get(WaitStatus.EXIT_STATUS);
        return new WaitStatus(child.id(), status == null ? WaitStatus.exited(0) : status);
    }

    /** Unwinds a task that called {@link #exit}; caught by the process's exit path only. */
    static final class Exited extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int code;

        Exited(int code) {
            super("_exit(" + code + ")", null, false, false);
            this.code = code;
        }
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
     * {@code body}, followed by {@code do_exit} whether it returns, exits, is killed or throws
     * (also for threads of a process): {@code exit_mm}, {@code exit_files}, then the status
     * word. A body that returns with a fatal signal pending dies of it (on its way back to user
     * space). An exception is reported when the body throws it, before the exit
     * ({@link Kernel#reportTaskException}): the exit could block on a lock the body still held
     * and bury the exception under a deadlock or lockdep report. In a controlled run the run
     * ends there; natively the exit still runs.
     */
    static TaskBody exitingMm(TaskBody body) {
        return self -> {
            int status;
            try {
                body.run(self);
                Signal.dieIfPending(self);
                status = WaitStatus.exited(0);
            } catch (RunAborted stopped) {
                throw stopped;
            } catch (Exited e) {
                status = WaitStatus.exited(e.code);
            } catch (Signal.Killed k) {
                status = WaitStatus.signaled(k.sig);
            } catch (Exception e) {
                self.kernel().reportTaskException(e);
                doExit(self, WaitStatus.exited(1));
                throw e;
            }
            doExit(self, status);
        };
    }

    private static void doExit(Task self, int status) {
        Exit.exitMm(self);
        FilesStruct.exitFiles(self);
        self.set(WaitStatus.EXIT_STATUS, status);
    }
}
