package hmm4j.kernel.sched;

import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.sync.Completion;

/**
 * The two fatal signals the tests send, {@code SIGKILL} and {@code SIGTERM} with its default
 * action (kernel/signal.c): {@link #kill} makes a signal pending on a process task, which then
 * dies of it.
 *
 * <p>Overview. The model cannot stop a task in the middle of its Java code, so a pending fatal
 * signal acts where a task can notice it: a task parked in {@link #pause} (C's {@code pause()},
 * or the {@code while (1) {}} of a child waiting to be killed) wakes and dies at once; a task
 * that is running kernel code dies on its way back to user space, which the model places at the
 * end of its body — it then exits as killed, not with its exit code. Dying is exiting: the exit
 * path ({@code exit_mm}, {@code exit_files}) runs as for {@code _exit}, and {@code waitpid}
 * reports {@code WIFSIGNALED} with the signal ({@link WaitStatus}). A task in a killable
 * sleep ({@link #killableSleep}: {@code mmap_read_lock_killable} and the like) is woken too,
 * and its sleep gives up.
 *
 * <p>Locking. The pending signal is a task slot written by the sender before it completes the
 * task's wake-up; the first fatal signal sent wins, as a second one changes nothing.
 */
public final class Signal {
    /** {@code SIGKILL}. */
    public static final int SIGKILL = 9;
    /** {@code SIGTERM}. */
    public static final int SIGTERM = 15;

    private static final TaskKey<Integer> PENDING = new TaskKey<>("tsk->pending (fatal)");
    private static final TaskKey<Completion> WAKE = new TaskKey<>("tsk->signal wake-up");
    private static final TaskKey<Runnable> KILLABLE_WAKE = new TaskKey<>("tsk TASK_KILLABLE wake-up");

    private Signal() {
    }

    /** Unwinds a task that dies of a fatal signal; caught by the process's exit path only. */
    static final class Killed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int sig;

        Killed(int sig) {
            super("killed by signal " + sig, null, false, false);
            this.sig = sig;
        }
    }

    /**
     * {@code kill(pid, sig)} for {@code SIGKILL} or {@code SIGTERM}: the signal becomes pending
     * on {@code target}, and a target parked in {@link #pause} wakes to die of it.
     *
     * @return 0; {@code -EINVAL} for another signal; {@code -ESRCH} if the target has exited
     */
    public static int kill(Task target, int sig) {
        if (sig != SIGKILL && sig != SIGTERM) {
            return -Errno.EINVAL;
        }
        if (target.state() == Task.State.DONE || target.get(WaitStatus.EXIT_STATUS) != null) {
            return -Errno.ESRCH;
        }
        if (target.get(PENDING) == null) {
            target.set(PENDING, sig);
        }
        wake(target).complete();
        Runnable killable = target.get(KILLABLE_WAKE);
        if (killable != null) {
            killable.run();
        }
        return 0;
    }

    /** The fatal signal pending on {@code task}, or 0. */
    public static int pending(Task task) {
        Integer sig = task.get(PENDING);
        return sig == null ? 0 : sig;
    }

    /**
     * {@code pause()} of the calling process task: waits until a fatal signal is pending, then
     * dies of it (does not return). May sleep.
     *
     * @throws IllegalStateException outside a task
     */
    public static void pause(Task self) {
        if (self.kernel().current() != self) {
            throw new IllegalStateException("pause must be called by the pausing task");
        }
        while (pending(self) == 0) {
            wake(self).waitForCompletion();
        }
        throw new Killed(pending(self));
    }

    /** {@code fatal_signal_pending(task)}. */
    public static boolean fatalSignalPending(Task task) {
        return pending(task) != 0;
    }

    /**
     * A {@code TASK_KILLABLE} sleep of the calling task: while {@code sleep} runs, a fatal
     * signal sent to the task runs {@code wake} (the lock's or queue's wake-up), so that the
     * sleeper re-checks its condition, which includes {@link #fatalSignalPending}. Outside a
     * task the sleep runs without a waker. May sleep.
     *
     * @return what {@code sleep} returns
     */
    public static boolean killableSleep(Task self, Runnable wake, java.util.function.BooleanSupplier sleep) {
        if (self == null) {
            return sleep.getAsBoolean();
        }
        self.set(KILLABLE_WAKE, wake);
        try {
            return sleep.getAsBoolean();
        } finally {
            self.set(KILLABLE_WAKE, null);
        }
    }

    /** Dies now of the signal pending on the calling task, if any ({@code fatal_signal_pending}). */
    static void dieIfPending(Task self) {
        int sig = pending(self);
        if (sig != 0) {
            throw new Killed(sig);
        }
    }

    private static Completion wake(Task task) {
        synchronized (WAKE) {
            Completion c = task.get(WAKE);
            if (c == null) {
                c = new Completion(task.kernel(), task.name() + " signal wake-up");
                task.set(WAKE, c);
            }
            return c;
        }
    }
}
