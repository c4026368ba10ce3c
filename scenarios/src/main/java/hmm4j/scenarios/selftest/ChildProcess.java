package hmm4j.scenarios.selftest;

import hmm4j.sim.Task;

/**
 * A child made by {@link UserSpace#fork}: the C test's {@code pid}, naming the child's task.
 * What {@code waitpid} returns and what {@code kill} does are the kernel's
 * ({@link hmm4j.kernel.sched.Process#waitpid}, {@link hmm4j.kernel.sched.Signal#kill}).
 */
final class ChildProcess {
    final Task task;

    ChildProcess(Task task) {
        this.task = task;
    }

    /** The pid, as {@code fork} returned it to the parent. */
    int pid() {
        return task.id();
    }
}
