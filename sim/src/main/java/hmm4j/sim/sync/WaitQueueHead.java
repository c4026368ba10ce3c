package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.WaitChannel;
import java.util.function.BooleanSupplier;

/**
 * {@code wait_queue_head_t} with {@code wait_event}, {@code wait_event_timeout} and
 * {@code wake_up_all}. The condition is evaluated by the waiter, atomically (no scheduling
 * point inside it), and must only read state (use {@code peek()} on cells).
 */
@HiddenFromSites
public final class WaitQueueHead {
    private static final Op.Kind WAIT_EVENT = new Op.Kind("wait_event", Op.Access.READ);
    private static final Op.Kind WAIT_EVENT_TIMEOUT = new Op.Kind("wait_event_timeout", Op.Access.READ);
    private static final Op.Kind WAKE_UP_ALL = new Op.Kind("wake_up_all", Op.Access.WRITE);

    private final Kernel kernel;
    private final String name;
    /** This object as the target of its operations, which it builds once. */
    private final Op.Target target;
    private final Op waitEventOp;
    private final Op waitEventTimeoutOp;
    private final Op wakeUpAllOp;
    private final WaitChannel channel;

    public WaitQueueHead(Kernel kernel, String name) {
        this.kernel = kernel;
        this.name = name;
        this.target = kernel.newTarget(name);
        this.waitEventOp = Op.of(WAIT_EVENT, target);
        this.waitEventTimeoutOp = Op.of(WAIT_EVENT_TIMEOUT, target);
        this.wakeUpAllOp = Op.of(WAKE_UP_ALL, target);
        this.channel = kernel.runtime().newChannel(name);
    }

    /** {@code wait_event}: sleeps until {@code condition} holds. May sleep. */
    public void waitEvent(BooleanSupplier condition) {
        kernel.syncObserver().mightSleep(kernel.current(), waitEventOp.label());
        kernel.point(waitEventOp);
        channel.await(target, condition, "wait_event(" + name + ") waiting on " + name, WaitChannel.FOREVER);
    }

    /**
     * {@code wait_event}, with what the task waits for in its reason (deadlock reports and
     * traces show it), e.g. the page under migration and who holds its lock. May sleep.
     */
    public void waitEvent(BooleanSupplier condition, String waitingFor) {
        kernel.syncObserver().mightSleep(kernel.current(), waitEventOp.label());
        kernel.point(waitEventOp);
        channel.await(target, condition, "wait_event(" + name + ") waiting for " + waitingFor, WaitChannel.FOREVER);
    }

    /**
     * {@code wait_event_timeout}: returns 0 if the timeout elapsed with the condition still
     * false, otherwise the remaining time in nanoseconds (at least 1). May sleep.
     */
    public long waitEventTimeout(BooleanSupplier condition, long timeoutNanos) {
        kernel.syncObserver().mightSleep(kernel.current(), waitEventTimeoutOp.label());
        kernel.point(waitEventTimeoutOp);
        long start = kernel.runtime().nanoTime();
        boolean ok = channel.await(target, condition, "wait_event_timeout(" + name + ") waiting on " + name,
                Math.max(0, timeoutNanos));
        if (!ok) {
            return 0;
        }
        long left = timeoutNanos - (kernel.runtime().nanoTime() - start);
        return Math.max(1, left);
    }

    /** {@code wake_up_all}. */
    public void wakeUpAll() {
        kernel.point(wakeUpAllOp);
        channel.wakeAll();
    }

    @Override
    public String toString() {
        return name;
    }
}
