package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.rule.SimRules;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code struct mutex}: a sleeping lock with an owner. Taking it may sleep; a task waiting
 * for it is blocked on {@code mutex_lock(name) held by <owner>}.
 */
@HiddenFromSites
public final class Mutex extends AbstractLock {
    private static final Op.Kind LOCK = new Op.Kind("mutex_lock", Op.Access.WRITE);
    private static final Op.Kind TRYLOCK = new Op.Kind("mutex_trylock", Op.Access.WRITE);
    private static final Op.Kind UNLOCK = new Op.Kind("mutex_unlock", Op.Access.WRITE);

    private final AtomicReference<Object> owner = new AtomicReference<>();
    private final Op lockOp;
    private final Op trylockOp;
    private final Op unlockOp;

    public Mutex(Kernel kernel, String name) {
        this(kernel, name, name);
    }

    /** @param className the lockdep class shared by all mutexes initialised alike */
    public Mutex(Kernel kernel, String className, String name) {
        super(kernel, className, name);
        this.lockOp = Op.of(LOCK, target);
        this.trylockOp = Op.of(TRYLOCK, target);
        this.unlockOp = Op.of(UNLOCK, target);
    }

    @Override
    public boolean spinning() {
        return false;
    }

    /** {@code mutex_lock}: may sleep. */
    public void lock() {
        Task t = task();
        observer().mightSleep(t, lockOp.label());
        kernel.point(lockOp);
        observer().acquire(t, this, LockMode.EXCLUSIVE, false);
        Object me = holder();
        if (owner.compareAndSet(null, me)) {
            return; // uncontended: no wait, nothing allocated
        }
        awaitAcquire(lockOp, () -> owner.compareAndSet(null, me),
                () -> "held by " + holderName(owner.get()));
    }

    /** {@code mutex_trylock}: true if taken; never sleeps. */
    public boolean trylock() {
        Task t = task();
        kernel.point(trylockOp);
        if (!owner.compareAndSet(null, holder())) {
            return false;
        }
        observer().acquire(t, this, LockMode.EXCLUSIVE, true);
        return true;
    }

    /** {@code mutex_unlock}: only by the owner. */
    public void unlock() {
        Task t = task();
        kernel.point(unlockOp);
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
