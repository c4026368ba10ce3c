/**
 * The kernel's synchronisation primitives, written once against the substrate's
 * {@link hmm4j.sim.Runtime} and {@link hmm4j.sim.WaitChannel}: spinlock, mutex,
 * rw_semaphore (the mmap lock), atomic_t, refcount_t, {@code READ_ONCE}/{@code WRITE_ONCE}
 * cells, wait queues, completion, SRCU, RCU read sections and lockdep maps.
 * Follows {@code include/linux/spinlock.h}, {@code kernel/locking/mutex.c},
 * {@code kernel/locking/rwsem.c}, {@code include/linux/refcount.h},
 * {@code include/linux/wait.h}, {@code kernel/sched/completion.c} and
 * {@code kernel/rcu/srcutree.c} (behaviour of Linux 6.x).
 *
 * <h2>Conventions (one place for all of them)</h2>
 * <ul>
 *   <li><b>Scheduling points.</b> Every operation of every primitive is a scheduling point,
 *       taken <em>before</em> the operation: in the controlled runtime another task may run
 *       between any two primitive operations. Plain Java fields are not scheduling points;
 *       model state shared between tasks lives in these cells or under one of these locks.</li>
 *   <li><b>Operations.</b> A point passes a typed {@link hmm4j.sim.Op}: a kind named as the
 *       kernel names the call ({@code mutex_lock}, {@code READ_ONCE}) with its access (reads
 *       observe; locks, unlocks and read-modify-writes write), the object as its target, and
 *       a label {@code kind(object name)} for reports. Each object takes its target from the
 *       kernel and builds its operations once, when it is created; a call passes the same
 *       operation every time. A wait passes the object it waits for, the target of the
 *       {@code block}.</li>
 *   <li><b>Names.</b> Methods keep the kernel's names in camelCase on the natural owner:
 *       {@code mutex.lock()} is {@code mutex_lock}, {@code cell.readOnce()} is
 *       {@code READ_ONCE}, {@code rwsem.downRead()} is {@code down_read},
 *       {@code srcu.synchronizeSrcu()} is {@code synchronize_srcu}.</li>
 *   <li><b>Memory model.</b> Sequential consistency at scheduling points. Weak-memory
 *       reorderings are out of scope (the kernel's LKMM/herd7 tools cover them).</li>
 *   <li><b>Checkers.</b> Lock operations report to the kernel's
 *       {@link hmm4j.sim.SyncObserver} (lockdep); sleeping operations call
 *       {@code mightSleep} first; misuse (unlocking a lock not held, refcount underflow)
 *       is reported as a {@link hmm4j.sim.failure.Failure}.</li>
 *   <li><b>Callers outside tasks.</b> Set-up code on the main thread before a run may take
 *       locks that are free; it must not block.</li>
 * </ul>
 */
package hmm4j.sim.sync;
