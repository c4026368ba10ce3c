package hmm4j.kernel.dma;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.Op;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.RefcountT;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@code struct dma_fence}: a one-shot completion of a piece of device work, shared by
 * reference count (include/linux/dma-fence.h, drivers/dma-buf/dma-fence.c).
 *
 * <p>Overview: {@link #DmaFence(Kernel, DmaFenceOps, SpinLock, long, long)} is
 * {@code dma_fence_init} (one reference). The fence signals once ({@link #dmaFenceSignal}); waiters
 * ({@link #dmaFenceWaitTimeout}) sleep until then, callbacks ({@link #dmaFenceAddCallback}) run at the
 * signal under the fence's lock. A driver may subclass it, as a driver's fence embeds a
 * {@code struct dma_fence}.
 *
 * <p>Locking: the state (signalled, error, timestamp, callback list, signalling enabled) is
 * guarded by the spinlock given at init ({@code fence->lock}), which callbacks and
 * {@code enable_signaling} run under. {@link #dmaFenceSignal} is a fence-signalling critical section
 * and every wait calls {@code __dma_fence_might_wait}: the lockdep annotations of
 * {@link FenceLockdep}.
 *
 * <p>Lifetime: {@link #dmaFenceGet}/{@link #dmaFencePut} are the kref; the last put calls the ops'
 * {@code release} (by default {@code dma_fence_free}). Every operation on a freed fence is a
 * use-after-free with its three sites. Releasing a fence that still has callbacks queued
 * and has not signalled is reported (the kernel's "released with pending signals" warning)
 * and the fence is then signalled with {@code -EDEADLK}, as the kernel does.
 *
 * <p>Differences from the kernel: timeouts are nanoseconds of virtual time, not jiffies;
 * no RCU-deferred free ({@code dma_fence_get_rcu}); interruptible waits are never
 * interrupted (the model has no signal delivery to sleeping tasks); no custom {@code wait}
 * op; no tracepoints.
 */
public class DmaFence extends KObject {
    /** {@code MAX_SCHEDULE_TIMEOUT}: wait without a timeout. */
    public static final long MAX_SCHEDULE_TIMEOUT = Long.MAX_VALUE;
    /** Coverage mark: a fence wait slept until the fence signalled. */
    public static final Mark WAITED = Mark.of("dma-fence.wait.slept",
            "dma_fence_wait_timeout slept on an unsignalled fence until it signalled");
    private static final Op.Kind SIGNAL = new Op.Kind("dma_fence_signal", Op.Access.WRITE);
    private static final Op.Kind WAIT = new Op.Kind("dma_fence_wait_timeout", Op.Access.READ);

    private final Kernel kernel;
    private final DmaFenceOps ops;
    private final SpinLock lock;
    private final long context;
    private final long seqno;
    private final RefcountT refcount;
    private final WaitChannel channel;
    private final Op signalOp;
    private final Op waitOp;

    // ---- guarded by lock ----
    private volatile boolean signaled;
    private boolean signalingEnabled;
    private int error;
    private long timestamp;
    private final List<DmaFenceCb> callbacks = new ArrayList<>(2);

    /**
     * {@code dma_fence_init}: a fence with one reference, not signalled.
     *
     * @param kernel  the kernel
     * @param ops     the driver's callbacks
     * @param lock    the spinlock that guards the fence (often shared by a timeline's fences)
     * @param context the timeline, from {@link #dmaFenceContextAlloc}
     * @param seqno   the position on the timeline
     */
    // The sanitizer files the reference only; nothing of the subclass is called.
    @SuppressWarnings("this-escape")
    public DmaFence(Kernel kernel, DmaFenceOps ops, SpinLock lock, long context, long seqno) {
        super(kernel, "fence " + context + ":" + seqno);
        this.kernel = kernel;
        this.ops = Objects.requireNonNull(ops, "ops");
        this.lock = Objects.requireNonNull(lock, "lock");
        this.context = context;
        this.seqno = seqno;
        this.refcount = new RefcountT(kernel, name() + "->refcount", 1);
        this.channel = kernel.runtime().newChannel(name());
        this.signalOp = Op.of(SIGNAL, target());
        this.waitOp = Op.of(WAIT, target());
        FenceLockdep.of(kernel);
    }

    /** {@code dma_fence_context_alloc}: the first of {@code num} new timeline numbers. */
    public static long dmaFenceContextAlloc(Kernel kernel, int num) {
        if (num <= 0) {
            throw new IllegalArgumentException("num must be positive: " + num);
        }
        return FenceLockdep.of(kernel).contexts.getAndAdd(num);
    }

    /**
     * {@code dma_fence_begin_signalling}: annotates the start of code that must run to
     * completion for some fence to signal (a job's completion path, the code that publishes
     * a fence through signalling it). Pairs with {@link #dmaFenceEndSignalling}, passing the cookie.
     * Nesting and atomic context annotate nothing (the cookie says so).
     */
    public static boolean dmaFenceBeginSignalling(Kernel kernel) {
        return FenceLockdep.of(kernel).begin(kernel);
    }

    /** {@code dma_fence_end_signalling}: ends the section begun with {@code cookie}. */
    public static void dmaFenceEndSignalling(Kernel kernel, boolean cookie) {
        FenceLockdep.of(kernel).end(kernel, cookie);
    }

    /** The ops. */
    public final DmaFenceOps ops() {
        return ops;
    }

    /** {@code fence->lock}. */
    public final SpinLock lock() {
        return lock;
    }

    /** {@code fence->context}. */
    public final long context() {
        return context;
    }

    /** {@code fence->seqno}. */
    public final long seqno() {
        return seqno;
    }

    /** {@code dma_fence_get}: one more reference; returns this fence. */
    public final DmaFence dmaFenceGet() {
        checkAccess("dma_fence_get");
        refcount.inc();
        return this;
    }

    /** {@code dma_fence_put}: drops a reference; the last one releases the fence. */
    public final void dmaFencePut() {
        checkAccess("dma_fence_put");
        if (refcount.decAndTest()) {
            release();
        }
    }

    /** {@code dma_fence_free}: frees the fence (for a {@code release} op). */
    public final void dmaFenceFree() {
        kfree();
    }

    private void release() {
        boolean pending;
        lock.lock();
        try {
            pending = !signaled && !callbacks.isEmpty();
        } finally {
            lock.unlock();
        }
        if (pending) {
            kernel.report(new Failure.InvariantViolation(KernelRules.DMA_FENCE_SIGNAL_BEFORE_RELEASE,
                    "dma_fence_release: " + describe() + " released with pending signals ("
                            + "callbacks queued)", kernel.site()));
            dmaFenceSetError(-Errno.EDEADLK);
            dmaFenceSignal();
        }
        ops.release(this);
    }

    /** For reports: driver, timeline, context and seqno. */
    public final String describe() {
        return name() + " (" + ops.getDriverName(this) + ":" + ops.getTimelineName(this) + ")";
    }

    /**
     * {@code dma_fence_signal}: signals the fence, runs its callbacks under its lock and wakes
     * its waiters. A fence-signalling critical section. Does not sleep.
     *
     * @return 0, or {@code -EINVAL} if the fence had already signalled
     */
    public final int dmaFenceSignal() {
        checkAccess("dma_fence_signal");
        boolean cookie = dmaFenceBeginSignalling(kernel);
        try {
            lock.lock();
            try {
                return dmaFenceSignalLocked();
            } finally {
                lock.unlock();
            }
        } finally {
            dmaFenceEndSignalling(kernel, cookie);
        }
    }

    /** {@code dma_fence_signal_locked}: as {@link #dmaFenceSignal} with {@code fence->lock} held (asserted). */
    public final int dmaFenceSignalLocked() {
        lock.assertHeld();
        kernel.point(signalOp);
        if (signaled) {
            return -Errno.EINVAL;
        }
        signaled = true;
        timestamp = kernel.runtime().nanoTime();
        List<DmaFenceCb> run = List.copyOf(callbacks);
        callbacks.clear();
        for (DmaFenceCb cb : run) {
            cb.queuedOn = null;
            cb.func.call(this, cb);
        }
        channel.wakeAll();
        return 0;
    }

    /**
     * {@code dma_fence_is_signaled}: true once signalled; asks the ops' {@code signaled} poll
     * first, and signals the fence if it says so. Does not sleep.
     */
    public final boolean dmaFenceIsSignaled() {
        checkAccess("dma_fence_is_signaled");
        if (signaled) {
            return true;
        }
        if (ops.signaled(this)) {
            dmaFenceSignal();
            return true;
        }
        return false;
    }

    /** {@code dma_fence_set_error}: records an error before the signal (a later one is a driver bug, refused). */
    public final void dmaFenceSetError(int err) {
        if (err >= 0 || err < -4095) {
            throw new IllegalArgumentException("dma_fence_set_error takes a negative errno: " + err);
        }
        if (signaled) {
            throw new IllegalStateException("dma_fence_set_error on signalled " + name());
        }
        error = err;
    }

    /** {@code dma_fence_get_status}: 0 while pending, 1 signalled without error, else the error. */
    public final int dmaFenceGetStatus() {
        if (!dmaFenceIsSignaled()) {
            return 0;
        }
        return error != 0 ? error : 1;
    }

    /** The signal time in virtual nanoseconds, 0 before the signal. */
    public final long timestamp() {
        return timestamp;
    }

    /** {@code dma_fence_enable_sw_signaling}: calls {@code enable_signaling} once, under the lock. */
    public final void dmaFenceEnableSwSignaling() {
        checkAccess("dma_fence_enable_sw_signaling");
        lock.lock();
        try {
            enableSignalingLocked();
        } finally {
            lock.unlock();
        }
    }

    private void enableSignalingLocked() {
        if (signalingEnabled || signaled) {
            return;
        }
        signalingEnabled = true;
        if (!ops.enableSignaling(this)) {
            dmaFenceSignalLocked();
        }
    }

    /**
     * {@code dma_fence_add_callback}: queues {@code cb} to run at the signal (under the fence's
     * lock) and enables signalling. Does not sleep.
     *
     * @return 0, or {@code -ENOENT} if the fence has already signalled (the callback is not queued)
     */
    public final int dmaFenceAddCallback(DmaFenceCb cb) {
        checkAccess("dma_fence_add_callback");
        lock.lock();
        try {
            if (signaled) {
                return -Errno.ENOENT;
            }
            enableSignalingLocked();
            if (signaled) {
                return -Errno.ENOENT;
            }
            callbacks.add(cb);
            cb.queuedOn = this;
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** {@code dma_fence_remove_callback}: true if {@code cb} was still queued and is removed. */
    public final boolean dmaFenceRemoveCallback(DmaFenceCb cb) {
        checkAccess("dma_fence_remove_callback");
        lock.lock();
        try {
            if (cb.queuedOn != this) {
                return false;
            }
            callbacks.remove(cb);
            cb.queuedOn = null;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code dma_fence_wait_timeout}: sleeps until the fence signals or {@code timeout}
     * (virtual nanoseconds, {@link #MAX_SCHEDULE_TIMEOUT} for none) passes. May sleep, so
     * process context only; annotated as a fence wait ({@code __dma_fence_might_wait}) even
     * when the fence has already signalled, as in the kernel.
     *
     * @param intr    an interruptible wait (never interrupted in the model)
     * @param timeout the longest wait, 0 to poll
     * @return the remaining timeout (at least 1) once signalled, 0 on timeout, {@code -EINVAL}
     *         for a negative timeout
     */
    public final long dmaFenceWaitTimeout(boolean intr, long timeout) {
        checkAccess("dma_fence_wait_timeout");
        if (timeout < 0) {
            return -Errno.EINVAL;
        }
        kernel.syncObserver().mightSleep(kernel.current(), "dma_fence_wait_timeout(" + name() + ")");
        FenceLockdep.of(kernel).mightWait(kernel);
        kernel.point(waitOp);
        dmaFenceEnableSwSignaling();
        if (dmaFenceIsSignaled()) {
            return timeout == 0 ? 1 : timeout;
        }
        if (timeout == 0) {
            return 0;
        }
        long start = kernel.runtime().nanoTime();
        boolean done = channel.await(target(), () -> signaled,
                "dma_fence_wait(" + name() + ") waiting for " + describe() + " to signal",
                timeout == MAX_SCHEDULE_TIMEOUT ? WaitChannel.FOREVER : timeout);
        if (!done) {
            return 0;
        }
        kernel.mark(WAITED);
        if (timeout == MAX_SCHEDULE_TIMEOUT) {
            return timeout;
        }
        return Math.max(1, timeout - (kernel.runtime().nanoTime() - start));
    }

    /** {@code dma_fence_wait}: waits without a timeout; 0 once signalled. May sleep. */
    public final int dmaFenceWait(boolean intr) {
        long ret = dmaFenceWaitTimeout(intr, MAX_SCHEDULE_TIMEOUT);
        return ret < 0 ? (int) ret : 0;
    }

    /** True once signalled, without polling the ops or touching the object (for snapshots). */
    final boolean signaledPeek() {
        return signaled;
    }

    /** The reference count (for tests and reports). */
    public final int refcountPeek() {
        return refcount.peek();
    }

    @Override
    public String toString() {
        return name();
    }
}
