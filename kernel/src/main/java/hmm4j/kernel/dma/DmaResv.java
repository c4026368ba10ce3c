package hmm4j.kernel.dma;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct dma_resv}: a buffer's reservation object, the lock that serialises changes to
 * the buffer and the fences of the work that uses it (include/linux/dma-resv.h,
 * drivers/dma-buf/dma-resv.c).
 *
 * <p>Overview: {@link #DmaResv(Kernel, String)} is {@code dma_resv_init}. Under
 * {@link #dmaResvLock} a driver reserves slots ({@link #dmaResvReserveFences}) and adds
 * fences with a usage ({@link #dmaResvAddFence}); a new fence replaces a fence of the same
 * timeline whose usage is not higher, and any signalled one. Waits
 * ({@link #dmaResvWaitTimeout}) and tests need no lock: they take a snapshot of the fences
 * of the usage asked for and below, as the kernel's unlocked iterator does under RCU.
 *
 * <p>Locking: the lock is a mutex of the kernel's one class
 * {@code reservation_ww_class_mutex}, which {@code dma_resv_lockdep} orders inside
 * {@code mmap_lock} and outside {@code fs_reclaim} and the notifier map (primed on first use,
 * {@link FenceLockdep}). The fence list is changed under the lock and read under this
 * object's monitor (the model's RCU), never across a scheduling point.
 *
 * <p>Lifetime: the object holds one reference to each fence it lists; {@link #dmaResvFini}
 * drops them and frees the object; using it afterwards is a use-after-free.
 *
 * <p>Differences from the kernel: no {@code ww_acquire_ctx} (one reservation locked at a
 * time, so no {@code -EDEADLK} back-off); the reserved slots are counted per lock hold, as
 * with {@code CONFIG_DEBUG_MUTEXES}, and adding a fence beyond them is reported instead of
 * hitting the kernel's {@code BUG_ON}.
 */
public final class DmaResv extends KObject {
    /** The lockdep class of every reservation lock ({@code reservation_ww_class}). */
    public static final String LOCK_CLASS = "reservation_ww_class_mutex";

    private record Slot(DmaFence fence, DmaResvUsage usage) {
    }

    private final Kernel kernel;
    private final Mutex lock;
    /** Guarded by lock for writes and by this object's monitor for the snapshot. */
    private final List<Slot> fences = new ArrayList<>(2);
    /** Slots reserved in the current lock hold (guarded by lock). */
    private int reserved;

    /** {@code dma_resv_init}. */
    // The sanitizer files the reference only.
    @SuppressWarnings("this-escape")
    public DmaResv(Kernel kernel, String name) {
        super(kernel, name);
        this.kernel = kernel;
        this.lock = new Mutex(kernel, LOCK_CLASS, name + "->lock");
        FenceLockdep.of(kernel);
    }

    /** The reservation lock ({@code obj->lock}). */
    public Mutex lock() {
        return lock;
    }

    /**
     * {@code dma_resv_lock(obj, NULL)}: takes the reservation lock. May sleep.
     *
     * @return 0
     */
    public int dmaResvLock() {
        checkAccess("dma_resv_lock");
        kernel.syncObserver().mightSleep(kernel.current(), "dma_resv_lock(" + name() + ")");
        lock.lock();
        return 0;
    }

    /** {@code dma_resv_trylock}: true if taken. Does not sleep. */
    public boolean dmaResvTrylock() {
        checkAccess("dma_resv_trylock");
        return lock.trylock();
    }

    /** {@code dma_resv_unlock}: drops the lock; slots reserved and not used are given back. */
    public void dmaResvUnlock() {
        checkAccess("dma_resv_unlock");
        lock.assertHeld();
        reserved = 0;
        lock.unlock();
    }

    /** {@code dma_resv_assert_held}. */
    public void dmaResvAssertHeld() {
        lock.assertHeld();
    }

    /** {@code dma_resv_is_locked}. */
    public boolean dmaResvIsLocked() {
        return lock.isLocked();
    }

    /**
     * {@code dma_resv_reserve_fences}: makes room for {@code num} more fences in this lock
     * hold. The lock must be held (asserted).
     *
     * @return 0 (the model's allocation does not fail)
     */
    public int dmaResvReserveFences(int num) {
        checkAccess("dma_resv_reserve_fences");
        lock.assertHeld();
        if (num < 0) {
            return -Errno.EINVAL;
        }
        reserved += num;
        return 0;
    }

    /**
     * {@code dma_resv_add_fence}: adds {@code fence} with {@code usage}, taking a reference,
     * into a slot reserved in this lock hold (the lock must be held: asserted). A fence of the
     * same context whose usage is not higher, and any signalled fence, is replaced (its
     * reference dropped).
     */
    public void dmaResvAddFence(DmaFence fence, DmaResvUsage usage) {
        checkAccess("dma_resv_add_fence");
        lock.assertHeld();
        fence.dmaFenceGet();
        DmaFence replaced = null;
        synchronized (this) {
            for (int i = 0; i < fences.size(); i++) {
                Slot old = fences.get(i);
                if ((old.fence().context() == fence.context() && old.usage().compareTo(usage) >= 0)
                        || old.fence().signaledPeek()) {
                    fences.set(i, new Slot(fence, usage));
                    replaced = old.fence();
                    break;
                }
            }
        }
        if (replaced != null) {
            replaced.dmaFencePut();
            return;
        }
        if (reserved <= 0) {
            kernel.report(new Failure.InvariantViolation(KernelRules.DMA_RESV_FENCE_RESERVED,
                    "dma_resv_add_fence: " + fence.describe() + " added to " + name()
                            + " without a slot reserved by dma_resv_reserve_fences in this lock hold", kernel.site()));
        }
        reserved--;
        synchronized (this) {
            fences.add(new Slot(fence, usage));
        }
    }

    /** The unsignalled fences of {@code usage} and below, each with a reference the caller drops. */
    private List<DmaFence> snapshot(DmaResvUsage usage) {
        List<DmaFence> out = new ArrayList<>();
        synchronized (this) {
            for (Slot s : fences) {
                if (s.usage().compareTo(usage) <= 0 && !s.fence().signaledPeek()) {
                    out.add(s.fence().dmaFenceGet());
                }
            }
        }
        return out;
    }

    /**
     * {@code dma_resv_wait_timeout}: waits for every unsignalled fence of {@code usage} and
     * below. No lock needed (the caller may hold the reservation lock). May sleep; each fence
     * waited for is a fence wait for lockdep.
     *
     * @return the remaining timeout (at least 1) when all have signalled, 0 on timeout
     */
    public long dmaResvWaitTimeout(DmaResvUsage usage, boolean intr, long timeout) {
        checkAccess("dma_resv_wait_timeout");
        long ret = timeout != 0 ? timeout : 1;
        for (DmaFence f : snapshot(usage)) {
            if (ret > 0) {
                ret = f.dmaFenceWaitTimeout(intr, timeout);
                if (ret > 0 && timeout != 0) {
                    timeout = ret;
                }
            }
            f.dmaFencePut();
        }
        return ret;
    }

    /** {@code dma_resv_test_signaled}: true if every fence of {@code usage} and below has signalled. */
    public boolean dmaResvTestSignaled(DmaResvUsage usage) {
        checkAccess("dma_resv_test_signaled");
        boolean all = true;
        for (DmaFence f : snapshot(usage)) {
            all &= f.dmaFenceIsSignaled();
            f.dmaFencePut();
        }
        return all;
    }

    /** The number of fences listed (for tests). */
    public synchronized int fenceCount() {
        return fences.size();
    }

    /** {@code dma_resv_fini}: drops every fence's reference and frees the object. */
    public void dmaResvFini() {
        checkAccess("dma_resv_fini");
        List<Slot> all;
        synchronized (this) {
            all = List.copyOf(fences);
            fences.clear();
        }
        for (Slot s : all) {
            s.fence().dmaFencePut();
        }
        kfree();
    }
}
