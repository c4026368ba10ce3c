package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.WaitChannel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code struct completion}: {@code complete} releases one waiter (or one future wait),
 * {@code complete_all} releases every waiter until {@link #reinit}.
 */
@HiddenFromSites
public final class Completion {
    private static final int ALL = Integer.MAX_VALUE;

    private final Kernel kernel;
    private final String name;
    private final PointNames points;
    private final WaitChannel channel;
    private final AtomicInteger done = new AtomicInteger();

    public Completion(Kernel kernel, String name) {
        this.kernel = kernel;
        this.name = name;
        this.points = new PointNames(name);
        this.channel = kernel.runtime().newChannel(name);
    }

    private boolean consume() {
        int v;
        do {
            v = done.get();
            if (v == 0) return false;
            if (v == ALL) return true;
        } while (!done.compareAndSet(v, v - 1));
        return true;
    }

    /** {@code complete}. */
    public void complete() {
        kernel.point(points.of("complete"));
        done.updateAndGet(v -> v == ALL || v == ALL - 1 ? v : v + 1);
        channel.wakeAll();
    }

    /** {@code complete_all}. */
    public void completeAll() {
        kernel.point(points.of("complete_all"));
        done.set(ALL);
        channel.wakeAll();
    }

    /** {@code wait_for_completion}: may sleep. */
    public void waitForCompletion() {
        kernel.syncObserver().mightSleep(kernel.current(), points.of("wait_for_completion"));
        kernel.point(points.of("wait_for_completion"));
        channel.await(this::consume, "wait_for_completion(" + name + ") waiting on " + name, WaitChannel.FOREVER);
    }

    /** {@code wait_for_completion_timeout}: 0 on timeout, else the remaining nanoseconds (≥ 1). */
    public long waitForCompletionTimeout(long timeoutNanos) {
        kernel.syncObserver().mightSleep(kernel.current(), points.of("wait_for_completion_timeout"));
        kernel.point(points.of("wait_for_completion_timeout"));
        long start = kernel.runtime().nanoTime();
        if (!channel.await(this::consume, "wait_for_completion_timeout(" + name + ") waiting on " + name,
                Math.max(0, timeoutNanos))) {
            return 0;
        }
        return Math.max(1, timeoutNanos - (kernel.runtime().nanoTime() - start));
    }

    /** {@code try_wait_for_completion}: consumes a completion if one is available, never sleeps. */
    public boolean tryWaitForCompletion() {
        kernel.point(points.of("try_wait_for_completion"));
        return consume();
    }

    /** {@code completion_done}: true if a wait would not block. */
    public boolean completionDone() {
        kernel.point(points.of("completion_done"));
        return done.get() > 0;
    }

    /** {@code reinit_completion}. */
    public void reinit() {
        done.set(0);
    }
}
