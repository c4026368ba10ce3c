package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.rule.SimRules;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code spinlock_t}. Holding it is atomic context: a sleeping call made while it is held is
 * reported by the checkers. Waiters block on the lock's channel instead of burning CPU; that
 * is invisible to the model.
 */
@HiddenFromSites
public final class SpinLock extends AbstractLock {
    private static final Op.Kind LOCK = new Op.Kind("spin_lock", Op.Access.WRITE);
    private static final Op.Kind TRYLOCK = new Op.Kind("spin_trylock", Op.Access.WRITE);
    private static final Op.Kind UNLOCK = new Op.Kind("spin_unlock", Op.Access.WRITE);

    private final AtomicReference<Object> owner = new AtomicReference<>();
    private final Op lockOp;
    private final Op trylockOp;
    private final Op unlockOp;

    public SpinLock(Kernel kernel, String name) {
        this(kernel, name, name);
    }

    /** @param className the lockdep class shared by all locks initialised alike */
    public SpinLock(Kernel kernel, String className, String name) {
        super(kernel, className, name);
        this.lockOp = Op.of(LOCK, target);
        this.trylockOp = Op.of(TRYLOCK, target);
        this.unlockOp = Op.of(UNLOCK, target);
    }

    @Override
    public boolean spinning() {
        return true;
    }

    /** {@code spin_lock}. */
    public void lock() {
        Task t = task();
        kernel.point(lockOp);
        observer().acquire(t, this, LockMode.EXCLUSIVE, false);
        if (t != null) {
            t.spinEnter();
        }
        Object me = holder();
        if (owner.get() == me) {
            violation(SimRules.SPIN_RECURSION, "spinlock recursion", name() + " is already held by " + holderName(me));
        }
        if (owner.compareAndSet(null, me)) {
            return; // uncontended: no wait, nothing allocated
        }
        awaitAcquire(lockOp, () -> owner.compareAndSet(null, me),
                () -> "held by " + holderName(owner.get()));
    }

    /** {@code spin_trylock}: true if taken. */
    public boolean trylock() {
        Task t = task();
        kernel.point(trylockOp);
        if (!owner.compareAndSet(null, holder())) {
            return false;
        }
        if (t != null) {
            t.spinEnter();
        }
        observer().acquire(t, this, LockMode.EXCLUSIVE, true);
        return true;
    }

    /** {@code spin_unlock}. */
    public void unlock() {
        Task t = task();
        kernel.point(unlockOp);
        Object me = holder();
        if (owner.get() != me) {
            violation(SimRules.UNLOCK_BY_HOLDER, "spin_unlock of a lock not held", name() + " is held by " + holderName(owner.get()));
            return;
        }
        owner.set(null);
        if (t != null) {
            t.spinExit();
        }
        observer().release(t, this);
        channel.wakeAll();
    }

    /** {@code spin_is_locked}. */
    public boolean isLocked() {
        return owner.get() != null;
    }

    /** {@code lockdep_assert_held}: reports unless the calling task holds this lock. */
    public void assertHeld() {
        if (owner.get() != holder()) {
            violation(SimRules.ASSERT_HELD, "lockdep_assert_held(" + name() + ")", "not held by " + holderName(holder())
                    + " (held by " + holderName(owner.get()) + ")");
        }
    }
}
