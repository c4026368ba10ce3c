package hmm4j.kernel.sched;

import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;

/**
 * What {@code waitpid} reports of an ended process (kernel/exit.c {@code wait_task_zombie}): its
 * pid and its status word, encoded as the kernel encodes it — an exit code in bits 8–15, or the
 * number of the signal that killed it in bits 0–6 — with the {@code <sys/wait.h>} macros as
 * methods.
 *
 * @param pid    the ended task's pid ({@link Task#id()})
 * @param status the status word
 */
public record WaitStatus(int pid, int status) {
    /** The status word of an ended process task; set by its exit path, last. */
    static final TaskKey<Integer> EXIT_STATUS = new TaskKey<>("tsk->exit_code");

    /** The status word of a process that exited with {@code code} ({@code _exit(code)}). */
    public static int exited(int code) {
        return (code & 0xff) << 8;
    }

    /** The status word of a process killed by {@code sig}. */
    public static int signaled(int sig) {
        return sig & 0x7f;
    }

    /** {@code WIFEXITED(status)}. */
    public boolean wifexited() {
        return (status & 0x7f) == 0;
    }

    /** {@code WEXITSTATUS(status)}. */
    public int wexitstatus() {
        return (status >> 8) & 0xff;
    }

    /** {@code WIFSIGNALED(status)}. */
    public boolean wifsignaled() {
        return (status & 0x7f) != 0 && (status & 0x7f) != 0x7f;
    }

    /** {@code WTERMSIG(status)}. */
    public int wtermsig() {
        return status & 0x7f;
    }
}
