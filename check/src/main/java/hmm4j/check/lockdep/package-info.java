/**
 * Lockdep for the model: per-task held-lock stacks, the lock-class dependency graph of a
 * run (or of a whole exploration) and the sleep-in-atomic check, fed by the substrate's
 * primitives through {@link hmm4j.sim.SyncObserver}.
 *
 * <p>Follows the behaviour of {@code kernel/locking/lockdep.c} ({@code lock_acquire},
 * {@code lock_release}, {@code check_prev_add}'s cycle search over strong dependency paths
 * with read/recursive-read dependency kinds, {@code check_deadlock}'s recursive-locking
 * check, {@code debug_check_no_locks_held}) and of {@code __might_sleep} in
 * {@code kernel/sched/core.c}, as of Linux 6.x; the dependency kinds follow
 * {@code Documentation/locking/lockdep-design.rst}. Lock classes are
 * {@link hmm4j.sim.LockClass} records compared by name, the model's counterpart of a
 * {@code lock_class_key}.
 */
package hmm4j.check.lockdep;
