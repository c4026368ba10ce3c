package hmm4j.scenarios.selftest;

import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;

/**
 * A child made by {@link UserSpace#fork}: its task, how it ended (for {@code waitpid}), and
 * the one signal the tests send ({@code SIGTERM}), which ends a child parked in
 * {@link UserSpace#pauseUntilSignalled}.
 *
 * <p>Differences from the kernel: there are no signals in the model. {@code kill(pid, sig)}
 * records the signal and completes a completion the child waits on; the child then leaves
 * its code and is reported as killed by that signal. Written by the child before it exits
 * and read by the parent after joining it.
 */
final class ChildProcess {
    /** Signal number of {@code SIGTERM}. */
    static final int SIGTERM = 15;

    final Completion signal;
    Task task;
    int termsig;
    boolean exited;

    ChildProcess(Completion signal) {
        this.signal = signal;
    }

    /** What {@code waitpid} stores: how the child ended. */
    record WaitStatus(boolean exited, int exitStatus, boolean signaled, int termsig) {
        /** {@code WIFEXITED} as an int, as the C tests compare it. */
        int wifexited() {
            return exited ? 1 : 0;
        }

        /** {@code WIFSIGNALED} as an int. */
        int wifsignaled() {
            return signaled ? 1 : 0;
        }
    }
}
