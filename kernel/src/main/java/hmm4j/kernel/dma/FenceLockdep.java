package hmm4j.kernel.dma;

import hmm4j.check.lockdep.Lockdep;
import hmm4j.kernel.mm.Gfp;
import hmm4j.kernel.mm.notifier.MmuNotifierSubscriptions;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.sync.LockMap;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.RwSemaphore;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The kernel-wide fence state of one kernel: the {@code dma_fence_map} lockdep map, the
 * fence-context counter, and the boot-time priming of {@code dma_resv_lockdep}
 * (drivers/dma-fence.c, drivers/dma-buf/dma-resv.c).
 *
 * <p>Overview: a fence-signalling critical section ({@code dma_fence_begin_signalling} to
 * {@code dma_fence_end_signalling}) holds the map as a non-recursive reader; every fence wait
 * acquires and releases it exclusively ({@code __dma_fence_might_wait}). So a wait under a
 * lock that some signalling section takes, or a signalling section taking a lock held by a
 * waiter, closes a cycle through the map whichever happens first. Created on first use of
 * fences in a kernel; creating it primes lockdep with the order the kernel primes at boot:
 * {@code mmap_lock} (read) → {@code reservation_ww_class_mutex} → {@code fs_reclaim} →
 * {@code mmu_notifier_invalidate_range_start} → {@code dma_fence_map}.
 *
 * <p>Differences from the kernel: a section is tracked per task with a depth slot (the
 * kernel asks lockdep {@code lock_is_held_type}); the priming leaves out
 * {@code i_mmap_rwsem}, which the model has no address space for; a section begun outside
 * any task annotates nothing, as lockdep in the model ignores set-up code.
 */
@HiddenFromSites
final class FenceLockdep {
    final LockMap map;
    final AtomicLong contexts = new AtomicLong(1);
    private final TaskKey<int[]> depthKey = new TaskKey<>("dma_fence signalling depth");

    private FenceLockdep(Kernel kernel) {
        this.map = new LockMap(kernel, "dma_fence_map");
    }

    /** The kernel's fence state, created and primed on first use. */
    static FenceLockdep of(Kernel kernel) {
        FenceLockdep g = kernel.componentOrNull(FenceLockdep.class);
        if (g != null) {
            return g;
        }
        g = kernel.component(FenceLockdep.class, () -> new FenceLockdep(kernel));
        g.prime(kernel);
        return g;
    }

    /** {@code dma_resv_lockdep}: the boot-time order, recorded with nothing else held. */
    private void prime(Kernel kernel) {
        Lockdep lockdep = Lockdep.of(kernel);
        if (lockdep == null) {
            return;
        }
        RwSemaphore mmapLock = new RwSemaphore(kernel, "mm->mmap_lock", "dma_resv_lockdep mm->mmap_lock");
        Mutex resv = new Mutex(kernel, DmaResv.LOCK_CLASS, "dma_resv_lockdep obj.lock");
        lockdep.prime("dma_resv_lockdep", List.of(mmapLock, resv, Gfp.fsReclaimMap(kernel),
                        MmuNotifierSubscriptions.lockMap(kernel), map),
                List.of(LockMode.SHARED, LockMode.EXCLUSIVE, LockMode.EXCLUSIVE, LockMode.EXCLUSIVE,
                        LockMode.EXCLUSIVE));
    }

    private int[] depth(Task t) {
        int[] d = t.get(depthKey);
        if (d == null) {
            d = new int[1];
            t.set(depthKey, d);
        }
        return d;
    }

    /** {@code dma_fence_begin_signalling}; the cookie is true when nothing was annotated. */
    boolean begin(Kernel kernel) {
        Task t = kernel.current();
        if (t == null) {
            return true;
        }
        int[] d = depth(t);
        if (d[0] > 0 || t.inAtomicContext()) {
            return true;
        }
        map.acquireShared();
        d[0] = 1;
        return false;
    }

    /** {@code dma_fence_end_signalling}. */
    void end(Kernel kernel, boolean cookie) {
        if (cookie) {
            return;
        }
        Task t = kernel.current();
        map.release();
        if (t != null) {
            depth(t)[0] = 0;
        }
    }

    /**
     * {@code __dma_fence_might_wait}: the wait's exclusive acquisition of the map; inside a
     * section of the same task the read hold is dropped around it, as the kernel does.
     */
    void mightWait(Kernel kernel) {
        Task t = kernel.current();
        boolean inSection = t != null && depth(t)[0] > 0;
        if (inSection) {
            map.release();
        }
        map.acquire();
        map.release();
        if (inSection) {
            map.acquireShared();
        }
    }
}
