package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;

/**
 * Classic RCU read side, as an atomic-context marker: inside {@code rcu_read_lock} sleeping
 * is illegal, which the checkers enforce. (Grace periods of classic RCU are not modelled;
 * SRCU covers the notifier lists.)
 *
 * <p>The two operations act on one target per kernel, the RCU domain, and only read it:
 * with no grace periods modelled nothing writes it, so two read sections never race.
 */
@HiddenFromSites
public final class Rcu {
    private static final Op.Kind READ_LOCK = new Op.Kind("rcu_read_lock", Op.Access.READ);
    private static final Op.Kind READ_UNLOCK = new Op.Kind("rcu_read_unlock", Op.Access.READ);

    private final Op readLockOp;
    private final Op readUnlockOp;

    private Rcu(Kernel kernel) {
        Op.Target rcu = kernel.newTarget("rcu");
        this.readLockOp = new Op(READ_LOCK, rcu, "rcu_read_lock");
        this.readUnlockOp = new Op(READ_UNLOCK, rcu, "rcu_read_unlock");
    }

    /** The kernel's RCU domain; the lookup allocates nothing once it exists. */
    private static Rcu of(Kernel kernel) {
        Rcu r = kernel.componentOrNull(Rcu.class);
        return r != null ? r : kernel.component(Rcu.class, () -> new Rcu(kernel));
    }

    /** {@code rcu_read_lock}. */
    public static void readLock(Kernel kernel) {
        kernel.point(of(kernel).readLockOp);
        Task t = kernel.current();
        if (t != null) {
            t.rcuReadEnter();
        }
    }

    /** {@code rcu_read_unlock}. */
    public static void readUnlock(Kernel kernel) {
        kernel.point(of(kernel).readUnlockOp);
        Task t = kernel.current();
        if (t != null) {
            t.rcuReadExit();
        }
    }
}
