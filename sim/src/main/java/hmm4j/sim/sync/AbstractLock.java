package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.LockInstance;
import hmm4j.sim.Op;
import hmm4j.sim.SyncObserver;
import hmm4j.sim.Task;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.Rule;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What every lock shares: its kernel, lockdep class, name, wait channel, misuse reports, and
 * the wait for the lock, whose reason names the tasks holding it.
 */
@HiddenFromSites
abstract class AbstractLock implements LockInstance {
    final Kernel kernel;
    private final LockClass lockClass;
    private final String name;
    /** The lock as the target of its operations, which each lock type builds once from it. */
    final Op.Target target;
    final WaitChannel channel;

    AbstractLock(Kernel kernel, String className, String name) {
        this.kernel = kernel;
        this.lockClass = new LockClass(className);
        this.name = name;
        this.target = kernel.newTarget(name);
        this.channel = kernel.runtime().newChannel(name);
    }

    @Override
    public final LockClass lockClass() {
        return lockClass;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }

    final Task task() {
        return kernel.current();
    }

    /** The holder identity: the current task, or the thread outside any task. */
    final Object holder() {
        Task t = kernel.current();
        return t != null ? t : Thread.currentThread();
    }

    static String holderName(Object holder) {
        if (holder == null) return "nobody";
        if (holder instanceof Task t) return t.name();
        return "<main>";
    }

    /**
     * Waits on the lock's channel until {@code tryAcquire} takes the lock. The wait's reason
     * (for traces and deadlock reports) is {@code op} followed by {@code holders}, e.g.
     * {@code mutex_lock(m) held by writer}; when the holders change while the task waits
     * (another task took the lock first) the wait ends and starts again with the new
     * holders, so a report never names a task that no longer holds the lock.
     *
     * @param op         the operation, e.g. {@code mutex_lock(m)}
     * @param tryAcquire takes the lock if it can; evaluated atomically, never blocks
     * @param holders    describes who holds the lock now, e.g. {@code held by writer}
     */
    final void awaitAcquire(Op op, BooleanSupplier tryAcquire, Supplier<String> holders) {
        // An uncontended acquisition builds no description: the first test of the wait
        // would take the lock the same way, without a scheduling point.
        if (tryAcquire.getAsBoolean()) {
            return;
        }
        while (true) {
            String shown = holders.get();
            boolean[] holdersChanged = new boolean[1];
            channel.await(target, () -> {
                if (tryAcquire.getAsBoolean()) {
                    return true;
                }
                holdersChanged[0] = !holders.get().equals(shown);
                return holdersChanged[0];
            }, op.label() + " " + shown, WaitChannel.FOREVER);
            if (!holdersChanged[0]) {
                return;
            }
        }
    }

    final SyncObserver observer() {
        return kernel.syncObserver();
    }

    /** Reports {@code rule} broken by {@code what} (the operation or assertion), with {@code detail}. */
    final void violation(Rule rule, String what, String detail) {
        kernel.report(new Failure.InvariantViolation(rule, what + ": " + detail, kernel.site()));
    }
}
