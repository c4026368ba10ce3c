package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;

/**
 * Classic RCU read side, as an atomic-context marker: inside {@code rcu_read_lock} sleeping
 * is illegal, which the checkers enforce. (Grace periods of classic RCU are not modelled;
 * SRCU covers the notifier lists.)
 */
@HiddenFromSites
public final class Rcu {
    private Rcu() {
    }

    /** {@code rcu_read_lock}. */
    public static void readLock(Kernel kernel) {
        kernel.point("rcu_read_lock");
        Task t = kernel.current();
        if (t != null) {
            t.rcuReadEnter();
        }
    }

    /** {@code rcu_read_unlock}. */
    public static void readUnlock(Kernel kernel) {
        kernel.point("rcu_read_unlock");
        Task t = kernel.current();
        if (t != null) {
            t.rcuReadExit();
        }
    }
}
