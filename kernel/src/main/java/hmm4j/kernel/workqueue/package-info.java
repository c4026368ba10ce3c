/**
 * Workqueues ({@code kernel/workqueue.c}, {@code include/linux/workqueue.h}, Linux 6.x):
 * {@code alloc_workqueue} / {@code destroy_workqueue}, {@code INIT_WORK},
 * {@code queue_work}, {@code flush_work}, {@code cancel_work_sync}, {@code flush_workqueue},
 * delayed work on the virtual clock, and {@code system_wq}. Work runs on kworker tasks of
 * the model (daemon kernel threads), with the kernel's lockdep annotations: the work's and
 * the workqueue's {@code lockdep_map} are held around each execution and acquired by the
 * flushes, so a flush from inside a lock the work takes is a lock-order report.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.workqueue;
