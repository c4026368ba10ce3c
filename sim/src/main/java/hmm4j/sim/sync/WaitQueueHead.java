package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.WaitChannel;
import java.util.function.BooleanSupplier;

/**
 * {@code wait_queue_head_t} with {@code wait_event}, {@code wait_event_timeout} and
 * {@code wake_up_all}. The condition is evaluated by the waiter, atomically (no scheduling
 * point inside it), and must only read state (use {@code peek()} on cells).
 */
@HiddenFromSites
public final class WaitQueueHead {
    private final Kernel kernel;
    private final String name;
    private final PointNames points;
    private final WaitChannel channel;

    public WaitQueueHead(Kernel kernel, String name) {
        this.kernel = kernel;
        this.name = name;
        this.points = new PointNames(name);
        this.channel = kernel.runtime().newChannel(name);
    }

    /** {@code wait_event}: sleeps until {@code condition} holds. May sleep. */
    public void waitEvent(BooleanSupplier condition) {
        kernel.syncObserver().mightSleep(kernel.current(), points.of("wait_event"));
        kernel.point(points.of("wait_event"));
        channel.await(condition, "wait_event(" + name + ") waiting on " + name, WaitChannel.FOREVER);
    }

    /**
     * {@code wait_event_timeout}: returns 0 if the timeout elapsed with the condition still
     * false, otherwise the remaining time in nanoseconds (at least 1). May sleep.
     */
    public long waitEventTimeout(BooleanSupplier condition, long timeoutNanos) {
        kernel.syncObserver().mightSleep(kernel.current(), points.of("wait_event_timeout"));
        kernel.point(points.of("wait_event_timeout"));
        long start = kernel.runtime().nanoTime();
        boolean ok = channel.await(condition, "wait_event_timeout(" + name + ") waiting on " + name,
                Math.max(0, timeoutNanos));
        if (!ok) {
            return 0;
        }
        long left = timeoutNanos - (kernel.runtime().nanoTime() - start);
        return Math.max(1, left);
    }

    /** {@code wake_up_all}. */
    public void wakeUpAll() {
        kernel.point(points.of("wake_up_all"));
        channel.wakeAll();
    }

    @Override
    public String toString() {
        return name;
    }
}
