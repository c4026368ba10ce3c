package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.LockInstance;
import hmm4j.sim.SyncObserver;
import hmm4j.sim.Task;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.failure.Failure;

/** What every lock shares: its kernel, lockdep class, name, wait channel and misuse reports. */
@HiddenFromSites
abstract class AbstractLock implements LockInstance {
    final Kernel kernel;
    private final LockClass lockClass;
    private final String name;
    final WaitChannel channel;

    AbstractLock(Kernel kernel, String className, String name) {
        this.kernel = kernel;
        this.lockClass = new LockClass(className);
        this.name = name;
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

    final SyncObserver observer() {
        return kernel.syncObserver();
    }

    final void violation(String rule, String detail) {
        kernel.report(new Failure.InvariantViolation(rule, detail, kernel.site()));
    }
}
