package hmm4j.sim;

/**
 * The checkers' view of the substrate's primitives. The primitives call it; the
 * {@code check} module implements it (lockdep). The default does nothing.
 *
 * <p>Calls happen on the acting task's thread, in program order, with the lock's own state
 * not yet changed for {@code acquire} (lockdep validates before the task blocks, as the
 * kernel's {@code lock_acquire} does) and already changed for {@code release}.
 */
@HiddenFromSites
public interface SyncObserver {

    /** The no-op observer. */
    SyncObserver NONE = new SyncObserver() { };

    /**
     * {@code task} is about to take {@code lock} (may block), or has just succeeded in a
     * trylock ({@code trylock == true}; a trylock cannot deadlock and adds no dependency).
     * {@code mode} is how it will hold it: exclusively, as a non-recursive reader
     * ({@code down_read}) or as a recursive reader ({@code lock_map_acquire_read}).
     */
    default void acquire(Task task, LockInstance lock, LockMode mode, boolean trylock) { }

    /** {@code task} released {@code lock}. */
    default void release(Task task, LockInstance lock) { }

    /** {@code task} keeps {@code lock} but now holds it in {@code mode} (rwsem downgrade). */
    default void changeMode(Task task, LockInstance lock, LockMode mode) { }

    /** A call that may sleep is being made ({@code might_sleep}). */
    default void mightSleep(Task task, String operation) { }
}
