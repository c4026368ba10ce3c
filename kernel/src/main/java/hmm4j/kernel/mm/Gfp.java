package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import hmm4j.sim.sync.LockMap;

/**
 * Allocation contexts ({@code gfp_t}, include/linux/gfp_types.h) and the lockdep annotation
 * of an allocation that may enter direct reclaim ({@code might_alloc},
 * {@code fs_reclaim_acquire/release} in mm/page_alloc.c).
 *
 * <p>Overview: reclaim can run invalidations (it unmaps pages), so an allocation that may
 * reclaim is ordered before every lock held by an invalidation. The kernel tells lockdep
 * with a fake lock, {@code fs_reclaim}: a reclaiming allocation acquires and releases it,
 * and notifier registration records that {@code invalidate_range_start} may be entered from
 * reclaim. A driver that allocates with {@link #GFP_KERNEL} inside a notifier callback
 * then closes a cycle (rule lockdep.cycle), reported by lockdep as a possible circular locking dependency; a
 * {@link #GFP_NOWAIT} allocation does not reclaim and is fine.
 *
 * <p>Differences from the kernel: the model's own page allocator ({@link PhysMem#allocPage})
 * is not annotated (the fault handler allocates under the page-table lock where the kernel
 * allocates before taking it); drivers annotate their allocations with {@link #mightAlloc}.
 */
public final class Gfp {
    /** {@code __GFP_DIRECT_RECLAIM}: the allocation may enter direct reclaim. */
    public static final int GFP_DIRECT_RECLAIM = 0x400;
    /** {@code GFP_KERNEL}: may sleep and reclaim. */
    public static final int GFP_KERNEL = GFP_DIRECT_RECLAIM | 0x800 | 0x40 | 0x80;
    /** {@code GFP_NOWAIT}: no reclaim, no sleeping. */
    public static final int GFP_NOWAIT = 0x800;
    /** {@code GFP_ATOMIC}: no reclaim, may use reserves. */
    public static final int GFP_ATOMIC = 0x20 | 0x800;

    private Gfp() {
    }

    /** The kernel-wide {@code fs_reclaim} lockdep map. */
    public static LockMap fsReclaimMap(Kernel kernel) {
        FsReclaim existing = kernel.componentOrNull(FsReclaim.class); // no capturing lambda once made
        return (existing != null ? existing : kernel.component(FsReclaim.class, () -> new FsReclaim(kernel))).map;
    }

    /** Holder of the per-kernel map. */
    private static final class FsReclaim {
        final LockMap map;

        FsReclaim(Kernel kernel) {
            map = new LockMap(kernel, "fs_reclaim");
        }
    }

    /**
     * {@code might_alloc(gfp)}: for an allocation that may reclaim, {@code might_sleep} and
     * the {@code fs_reclaim} acquire/release; nothing for atomic allocations.
     */
    public static void mightAlloc(Kernel kernel, int gfp) {
        if ((gfp & GFP_DIRECT_RECLAIM) == 0) {
            return;
        }
        kernel.syncObserver().mightSleep(kernel.current(), "might_alloc(GFP_KERNEL)");
        LockMap map = fsReclaimMap(kernel);
        map.acquire();
        map.release();
    }
}
