package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.WaitChannel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code struct completion}: {@code complete} releases one waiter (or one future wait),
 * {@code complete_all} releases every waiter until {@link #reinit}.
 */
@HiddenFromSites
public final class Completion {
    private static final Op.Kind COMPLETE = new Op.Kind("complete", Op.Access.WRITE);
    private static final Op.Kind COMPLETE_ALL = new Op.Kind("complete_all", Op.Access.WRITE);
    private static final Op.Kind WAIT_FOR_COMPLETION = new Op.Kind("wait_for_completion", Op.Access.WRITE);
    private static final Op.Kind WAIT_FOR_COMPLETION_TIMEOUT = new Op.Kind("wait_for_completion_timeout", Op.Access.WRITE);
    private static final Op.Kind TRY_WAIT_FOR_COMPLETION = new Op.Kind("try_wait_for_completion", Op.Access.WRITE);
    private static final Op.Kind COMPLETION_DONE = new Op.Kind("completion_done", Op.Access.READ);

    private static final int ALL = Integer.MAX_VALUE;

    private final Kernel kernel;
    private final String name;
    /** This object as the target of its operations, which it builds once. */
    private final Op.Target target;
    private final Op completeOp;
    private final Op completeAllOp;
    private final Op waitForCompletionOp;
    private final Op waitForCompletionTimeoutOp;
    private final Op tryWaitForCompletionOp;
    private final Op completionDoneOp;
    private final WaitChannel channel;
    private final AtomicInteger done = new AtomicInteger();

    public Completion(Kernel kernel, String name) {
        this.kernel = kernel;
        this.name = name;
        this.target = kernel.newTarget(name);
        this.completeOp = Op.of(COMPLETE, target);
        this.completeAllOp = Op.of(COMPLETE_ALL, target);
        this.waitForCompletionOp = Op.of(WAIT_FOR_COMPLETION, target);
        this.waitForCompletionTimeoutOp = Op.of(WAIT_FOR_COMPLETION_TIMEOUT, target);
        this.tryWaitForCompletionOp = Op.of(TRY_WAIT_FOR_COMPLETION, target);
        this.completionDoneOp = Op.of(COMPLETION_DONE, target);
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
        kernel.point(completeOp);
        done.updateAndGet(v -> v == ALL || v == ALL - 1 ? v : v + 1);
        channel.wakeAll();
    }

    /** {@code complete_all}. */
    public void completeAll() {
        kernel.point(completeAllOp);
        done.set(ALL);
        channel.wakeAll();
    }

    /** {@code wait_for_completion}: may sleep. */
    public void waitForCompletion() {
        kernel.syncObserver().mightSleep(kernel.current(), waitForCompletionOp.label());
        kernel.point(waitForCompletionOp);
        channel.await(target, this::consume, "wait_for_completion(" + name + ") waiting on " + name, WaitChannel.FOREVER);
    }

    /** {@code wait_for_completion_timeout}: 0 on timeout, else the remaining nanoseconds (≥ 1). */
    public long waitForCompletionTimeout(long timeoutNanos) {
        kernel.syncObserver().mightSleep(kernel.current(), waitForCompletionTimeoutOp.label());
        kernel.point(waitForCompletionTimeoutOp);
        long start = kernel.runtime().nanoTime();
        if (!channel.await(target, this::consume, "wait_for_completion_timeout(" + name + ") waiting on " + name,
                Math.max(0, timeoutNanos))) {
            return 0;
        }
        return Math.max(1, timeoutNanos - (kernel.runtime().nanoTime() - start));
    }

    /** {@code try_wait_for_completion}: consumes a completion if one is available, never sleeps. */
    public boolean tryWaitForCompletion() {
        kernel.point(tryWaitForCompletionOp);
        return consume();
    }

    /** {@code completion_done}: true if a wait would not block. */
    public boolean completionDone() {
        kernel.point(completionDoneOp);
        return done.get() > 0;
    }

    /** {@code reinit_completion}. */
    public void reinit() {
        done.set(0);
    }
}
