package hmm4j.check.lockdep;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.LockClass;
import hmm4j.sim.LockInstance;
import hmm4j.sim.LockMode;
import hmm4j.sim.failure.Site;
import java.util.Objects;

/**
 * One entry of a task's held-lock stack, the model's {@code struct held_lock}.
 *
 * @param lock      the lock instance (compared by identity when released)
 * @param lockClass its lockdep class
 * @param mode      how it is held now (a downgrade changes it)
 * @param trylock   true if it was taken by a successful trylock
 * @param site      where it was acquired (the acquiring task is {@code site.task()})
 */
@HiddenFromSites
public record HeldLock(LockInstance lock, LockClass lockClass, LockMode mode, boolean trylock, Site site) {

    public HeldLock {
        Objects.requireNonNull(lock, "lock");
        Objects.requireNonNull(lockClass, "lockClass");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(site, "site");
    }

    /** The same entry held in {@code newMode} ({@code downgrade_write}). */
    HeldLock withMode(LockMode newMode) {
        return new HeldLock(lock, lockClass, newMode, trylock, site);
    }

    /** For reports: {@code "name"} or {@code "name (class C)"} when the names differ. */
    public String describe() {
        return Lockdep.describe(lock);
    }

    /** {@code ""} for an exclusive hold, else {@code read} or {@code recursiveRead}. */
    static String describeMode(LockMode mode, String read, String recursiveRead) {
        return switch (mode) {
            case EXCLUSIVE -> "";
            case SHARED -> read;
            case RECURSIVE_READ -> recursiveRead;
        };
    }

    @Override
    public String toString() {
        return describe() + describeMode(mode, " [read]", " [recursive read]") + (trylock ? " [trylock]" : "")
                + " taken at " + site;
    }
}
