package hmm4j.sim;

/**
 * How a lock is held, as lockdep's {@code read} argument of {@code lock_acquire} says it.
 *
 * <p>The two read modes differ in whether the reader can wait behind a waiting writer,
 * which decides what lockdep may call a deadlock. A non-recursive reader
 * ({@code down_read}) queues behind a waiting writer, so taking it twice, or in any cycle
 * with other locks, can deadlock. A recursive reader ({@code lock_map_acquire_read}; in the
 * kernel also the RCU and SRCU read-side maps) never waits for other readers: it nests with
 * any read of the same lock, and a cycle in which a lock is taken as a recursive reader and
 * then held as a reader while the next lock is taken is not a deadlock (lockdep's
 * "strong path" rule, {@code Documentation/locking/lockdep-design.rst}).
 */
@HiddenFromSites
public enum LockMode {
    /** Held exclusively: a writer, a mutex, a spinlock, {@code lock_map_acquire} ({@code read == 0}). */
    EXCLUSIVE,
    /** Held for read by a non-recursive reader: {@code down_read}, {@code downgrade_write} ({@code read == 1}). */
    SHARED,
    /** Held for read by a recursive reader: {@code lock_map_acquire_read} ({@code read == 2}). */
    RECURSIVE_READ;

    /** True for both read modes. */
    public boolean isRead() {
        return this != EXCLUSIVE;
    }
}
