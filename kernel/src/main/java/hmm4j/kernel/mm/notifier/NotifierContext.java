package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.KernelRules;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.failure.Failure;

/**
 * Which notifier callback the current task is inside, so that the calls the kernel forbids
 * from a callback ({@code mmu_notifier_unregister}, {@code mmu_notifier_synchronize},
 * {@code mmu_interval_notifier_remove}: each would wait for the very callback it runs in) are
 * reported at the call (rule notifier.not-from-callback) instead of surfacing later as a
 * deadlock, and so that a non-blockable callback runs in a non-block section where sleeping
 * is reported (rule sched.sleep-in-atomic).
 */
final class NotifierContext {
    private static final TaskKey<Callback> IN_CALLBACK = new TaskKey<>("in mmu notifier callback");

    /** The callback a task is in: the subscription's name and the op (its text built only for a report). */
    record Callback(String subscription, String op) {
        @Override
        public String toString() {
            return subscription + op;
        }
    }

    private NotifierContext() {
    }

    /**
     * Marks the current task as inside {@code subscription}'s {@code op} (e.g.
     * {@code "->invalidate"}); returns what to restore.
     */
    static Callback enter(Kernel k, String subscription, String op, boolean nonBlocking) {
        Task t = k.current();
        if (t == null) {
            return null;
        }
        Callback previous = t.get(IN_CALLBACK);
        t.set(IN_CALLBACK, new Callback(subscription, op));
        if (nonBlocking) {
            t.nonBlockStart();
        }
        return previous;
    }

    /** Leaves the callback entered by {@link #enter}. */
    static void exit(Kernel k, Callback previous, boolean nonBlocking) {
        Task t = k.current();
        if (t == null) {
            return;
        }
        if (nonBlocking) {
            t.nonBlockEnd();
        }
        t.set(IN_CALLBACK, previous);
    }

    /** Reports {@code op} if the current task is inside a notifier callback. */
    static void assertNotInCallback(Kernel k, String op) {
        Task t = k.current();
        Callback callback = t == null ? null : t.get(IN_CALLBACK);
        if (callback != null) {
            k.report(new Failure.InvariantViolation(KernelRules.NOT_FROM_CALLBACK,
                    t.name() + " called " + op + " inside " + callback
                            + "; it waits for callbacks to finish, including the one it runs in", k.site()));
        }
    }
}
