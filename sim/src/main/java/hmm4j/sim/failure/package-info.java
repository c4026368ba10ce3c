/**
 * The closed set of failures a run can end with ({@link hmm4j.sim.failure.Failure}, sealed):
 * use-after-free, address space used without mmget, refcount errors, lock-order cycles,
 * sleeping in atomic context, deadlock, exceeded bounds, invariant violations and unexpected
 * exceptions, each with the {@link hmm4j.sim.failure.Site} (task, step, code frames) where it
 * happened. They mirror the kernel's own reports: KASAN (mm/kasan/report.c), lockdep
 * (kernel/locking/lockdep.c), refcount_t warnings (lib/refcount.c), {@code __might_sleep}
 * (kernel/sched/core.c) and the hung-task and soft-lockup detectors.
 */
package hmm4j.sim.failure;
