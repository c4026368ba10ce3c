package hmm4j.sim;

import java.util.function.BooleanSupplier;

/**
 * The one blocking mechanism of the substrate: every primitive that can sleep or spin is
 * written against it, once, for both runtimes.
 *
 * <p>Contract: a waker changes the state that {@code ready} reads and then calls
 * {@link #wakeAll()}; a waiter calls {@link #await} which returns when {@code ready} is
 * true. No wake-up is lost: the native implementation evaluates {@code ready} under the
 * channel lock that {@code wakeAll} takes; the controlled runtime runs one task at a time.
 * {@code ready} is evaluated atomically (no scheduling point inside it) and must not block.
 */
@HiddenFromSites
public interface WaitChannel {

    /** No timeout. */
    long FOREVER = -1;

    /**
     * Blocks the current task until {@code ready} holds or the timeout (virtual time in the
     * controlled runtime) expires.
     *
     * @param on            the object the task waits for (the lock, queue, page or task): the
     *                      target of the {@link Op.Kind#BLOCK} operation when it blocks
     * @param ready         the wake-up condition, evaluated by the waiter
     * @param reason        what the task is blocked on, for deadlock reports and traces
     * @param timeoutNanos  {@link #FOREVER} or a timeout in nanoseconds
     * @return true if {@code ready} held, false on timeout
     */
    boolean await(Op.Target on, BooleanSupplier ready, String reason, long timeoutNanos);

    /** Makes every task waiting on this channel re-check its condition. */
    void wakeAll();
}
