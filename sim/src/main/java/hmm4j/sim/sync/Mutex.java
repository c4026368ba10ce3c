package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import hmm4j.sim.Task;
import hmm4j.sim.rule.SimRules;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code struct mutex}: a sleeping lock with an owner. Taking it may sleep; a task waiting
 * for it is blocked on {@code mutex_lock(name) held by <owner>}.
 */
@HiddenFromSites
public final class Mutex extends AbstractLock {
    private final AtomicReference<Object> owner = new AtomicReference<>();

    public Mutex(Kernel kernel, String name) {
        this(kernel, name, name);
    }

    /** @param className the lockdep class shared by all mutexes initialised alike */
    public Mutex(Kernel kernel, String className, String name) {
        super(kernel, className, name);
    }

    @Override
    public boolean spinning() {
        return false;
    }

    /** {@code mutex_lock}: may sleep. */
    public void lock() {
        Task t = task();
        observer().mightSleep(t, points.of("mutex_lock"));
        kernel.point(points.of("mutex_lock"));
        observer().acquire(t, this, LockMode.EXCLUSIVE, false);
        Object me = holder();
        awaitAcquire(points.of("mutex_lock"), () -> owner.compareAndSet(null, me),
                () -> "held by " + holderName(owner.get()));
    }

    /** {@code mutex_trylock}: true if taken; never sleeps. */
    public boolean trylock() {
        Task t = task();
        kernel.point(points.of("mutex_trylock"));
        if (!owner.compareAndSet(null, holder())) {
            return false;
        }
        observer().acquire(t, this, LockMode.EXCLUSIVE, true);
        return true;
    }

    /** {@code mutex_unlock}: only by the owner. */
    public void unlock() {
        Task t = task();
        kernel.point(points.of("mutex_unlock"));
        Object me = holder();
        if (owner.get() != me) {
            violation(SimRules.UNLOCK_BY_HOLDER, "mutex_unlock of a mutex not held", name() + " is held by " + holderName(owner.get())
                    + ", unlocked by " + holderName(me));
            return;
        }
        owner.set(null);
        observer().release(t, this);
        channel.wakeAll();
    }

    /** {@code mutex_is_locked}. */
    public boolean isLocked() {
        return owner.get() != null;
    }

    /** True if the calling task owns the mutex. */
    public boolean heldByCurrent() {
        return owner.get() == holder();
    }

    /** {@code lockdep_assert_held}: reports unless the calling task holds this mutex. */
    public void assertHeld() {
        if (!heldByCurrent()) {
            violation(SimRules.ASSERT_HELD, "lockdep_assert_held(" + name() + ")", "not held by " + holderName(holder())
                    + " (held by " + holderName(owner.get()) + ")");
        }
    }
}
