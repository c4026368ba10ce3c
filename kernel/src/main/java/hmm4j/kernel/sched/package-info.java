/**
 * Tasks and kernel threads of the model: user processes with their address space
 * ({@code kernel/fork.c}, {@code kernel/exit.c}), {@code kthread_use_mm} /
 * {@code kthread_unuse_mm} ({@code kernel/kthread.c}), fatal signals and killable sleeps
 * ({@code kernel/signal.c}) and references to a task ({@code get_task_struct} /
 * {@code put_task_struct}, {@code include/linux/sched/task.h}; Linux 6.x).
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.sched;
