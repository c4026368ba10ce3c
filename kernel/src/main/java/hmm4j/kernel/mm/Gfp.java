package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierSubscriptions;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.LockMap;

/**
 * Allocation contexts ({@code gfp_t}, include/linux/gfp_types.h) and the lockdep annotation
 * of an allocation that may enter direct reclaim ({@code might_alloc},
 * {@code fs_reclaim_acquire/release} in mm/page_alloc.c).
 *
 * <p>Overview: reclaim can run invalidations (it unmaps pages), so an allocation that may
 * reclaim is ordered before every lock held by an invalidation. The kernel tells lockdep
 * with a fake lock, {@code fs_reclaim}: a reclaiming allocation acquires and releases it
 * ({@link #fsReclaimAcquire}), and {@code fs_reclaim_acquire} itself also acquires and
 * releases the {@code invalidate_range_start} map (since v5.10, under CONFIG_MMU_NOTIFIER), so
 * every reclaiming allocation records {@code fs_reclaim → invalidate_range_start} and, for
 * the locks its caller holds, {@code lock → invalidate_range_start}; notifier registration
 * records the same pair. A driver that allocates with {@link #GFP_KERNEL} inside a notifier
 * callback then closes a cycle (rule lockdep.cycle), reported by lockdep as a possible
 * circular locking dependency; a {@link #GFP_NOWAIT} allocation does not reclaim and is fine.
 *
 * <p>Differences from the kernel: the model's own page allocator ({@link PhysMem#allocPage})
 * is not annotated (the fault handler allocates under the page-table lock where the kernel
 * allocates before taking it); drivers annotate their allocations with {@link #mightAlloc}.
 * No task runs with {@code PF_MEMALLOC} or a {@code memalloc_nofs/noio} scope
 * ({@code current_gfp_context}), and there is no {@code __GFP_NOLOCKDEP}.
 */
public final class Gfp {
    /** {@code __GFP_DIRECT_RECLAIM}: the allocation may enter direct reclaim. */
    public static final int GFP_DIRECT_RECLAIM = 0x400;
    /** {@code __GFP_IO}: reclaim may start physical I/O. */
    public static final int GFP_IO = 0x40;
    /** {@code __GFP_FS}: reclaim may call into the filesystems (and so takes {@code fs_reclaim}). */
    public static final int GFP_FS = 0x80;
    /** {@code GFP_KERNEL}: may sleep and reclaim. */
    public static final int GFP_KERNEL = GFP_DIRECT_RECLAIM | 0x800 | GFP_IO | GFP_FS;
    /** {@code GFP_NOFS}: may sleep and reclaim, but not through the filesystems. */
    public static final int GFP_NOFS = GFP_DIRECT_RECLAIM | 0x800 | GFP_IO;
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
     * {@link #fsReclaimAcquire} / {@link #fsReclaimRelease}; nothing for atomic allocations.
     */
    public static void mightAlloc(Kernel kernel, int gfp) {
        fsReclaimAcquire(kernel, gfp);
        fsReclaimRelease(kernel, gfp);
        if ((gfp & GFP_DIRECT_RECLAIM) != 0) {
            kernel.syncObserver().mightSleep(kernel.current(), "might_alloc(GFP_KERNEL)");
        }
    }

    /**
     * {@code fs_reclaim_acquire(gfp)} (mm/page_alloc.c): for an allocation that may enter
     * direct reclaim, acquires {@code fs_reclaim} if the reclaim may enter the filesystems
     * ({@link #GFP_FS}), then acquires and releases the {@code invalidate_range_start} map
     * (the priming of the notifier map lives here in the kernel, not only in registration).
     * Pairs with {@link #fsReclaimRelease}.
     */
    public static void fsReclaimAcquire(Kernel kernel, int gfp) {
        if ((gfp & GFP_DIRECT_RECLAIM) == 0) {
            return;
        }
        if ((gfp & GFP_FS) != 0) {
            fsReclaimMap(kernel).acquire();
        }
        LockMap start = MmuNotifierSubscriptions.lockMap(kernel);
        start.acquire();
        start.release();
    }

    /** {@code fs_reclaim_release(gfp)}: releases what {@link #fsReclaimAcquire} with the same {@code gfp} holds. */
    public static void fsReclaimRelease(Kernel kernel, int gfp) {
        if ((gfp & GFP_DIRECT_RECLAIM) != 0 && (gfp & GFP_FS) != 0) {
            fsReclaimMap(kernel).release();
        }
    }
}
