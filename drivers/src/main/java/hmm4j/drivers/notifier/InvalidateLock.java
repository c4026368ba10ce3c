package hmm4j.drivers.notifier;

import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.Mutex;

/**
 * How a driver takes its own lock inside an invalidation callback: sleep for it when the
 * range is blockable, only try when it is not ({@code mmu_notifier_range_blockable} in
 * include/linux/mmu_notifier.h; the pattern of
 * lib/test_hmm.c's invalidate and of every interval-notifier user).
 */
public final class InvalidateLock {
    /** Coverage mark: a driver's non-blockable invalidate found its lock busy and answered "would block". */
    public static final Mark TRYLOCK_FAILED = Mark.of("driver.invalidate.trylock-failed",
            "A driver's invalidate of a non-blockable range found its lock busy and answered would-block");

    private InvalidateLock() {
    }

    /** Takes {@code lock} for {@code range}; false means "would block" (non-blockable and busy). */
    static boolean lockFor(Mutex lock, MmuNotifierRange range) {
        if (range.blockable()) {
            lock.lock();
            return true;
        }
        if (lock.trylock()) {
            return true;
        }
        range.mm().kernel().mark(TRYLOCK_FAILED);
        return false;
    }
}
