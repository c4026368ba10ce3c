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
 * deadlock, and so that a non-blockable callback runs where sleeping is reported: a classic
 * one inside {@code non_block_start}, as the kernel runs it (rule sched.sleep-in-atomic, the
 * kernel's might_sleep splat), an interval one under hmm4j's own rule
 * (interval.nonblockable-sleep), since the kernel's {@code mn_itree_invalidate} opens no such
 * section and its symptom is a stalled OOM reaper, not a splat.
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

    /**
     * Marks the current task as inside {@code subscription}'s interval {@code ->invalidate} of
     * {@code range}. The kernel's {@code mn_itree_invalidate} opens no {@code non_block_start}
     * section around an interval callback, so the kernel prints nothing when one sleeps in a
     * non-blockable range; hmm4j still forbids it, under its own rule
     * ({@link KernelRules#INTERVAL_NONBLOCK_SLEEP}), in a {@link Task.NoSleepSection}.
     * Returns what to restore; pairs with {@link #exitInterval}.
     */
    static Callback enterInterval(Kernel k, String subscription, MmuNotifierRange range) {
        Task t = k.current();
        if (t == null) {
            return null;
        }
        Callback previous = t.get(IN_CALLBACK);
        t.set(IN_CALLBACK, new Callback(subscription, "->invalidate"));
        if (!range.blockable()) {
            t.noSleepStart(KernelRules.INTERVAL_NONBLOCK_SLEEP, "blocking in a non-blockable invalidation: the OOM"
                    + " reaper would stall here (" + subscription + "->invalidate of " + range + ")");
        }
        return previous;
    }

    /** Leaves the interval callback entered by {@link #enterInterval}. */
    static void exitInterval(Kernel k, Callback previous, boolean nonBlocking) {
        Task t = k.current();
        if (t == null) {
            return;
        }
        if (nonBlocking) {
            t.noSleepEnd();
        }
        t.set(IN_CALLBACK, previous);
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
