/**
 * Tasks and kernel threads of the model: user processes with their address space
 * ({@code kernel/fork.c}, {@code kernel/exit.c}) and {@code kthread_use_mm} /
 * {@code kthread_unuse_mm} ({@code kernel/kthread.c}, Linux 6.x).
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.sched;
