package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import hmm4j.sim.sync.LockMap;
import hmm4j.sim.sync.RwSemaphore;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The locks of a reverse-map walk (mm/rmap.c): the {@code anon_vma} rwsem that
 * {@code rmap_walk_anon} takes for read around {@code try_to_unmap_one} and
 * {@code try_to_migrate_one}, and the folio lock every rmap walker holds, as lockdep-visible
 * locks so that a lock a notifier callback takes inside these walks is ordered after them.
 *
 * <p>Overview. The kernel's order (the comment at the top of mm/rmap.c) is
 * {@code mmap_lock → folio_lock → i_mmap_rwsem → anon_vma->rwsem → page-table lock}; an rmap
 * walker that invalidates ({@link Vmscan}'s {@code try_to_unmap}, {@code try_to_migrate} of
 * device pages, {@code make_device_exclusive} and the restore of a device-exclusive entry)
 * holds the folio lock and (for the first two) the anon_vma rwsem for read while the
 * {@code invalidate_range_start} callbacks run, so lockdep records
 * {@code folio_lock → driver lock} and {@code &anon_vma->rwsem → driver lock}.
 *
 * <p>Locking: {@link #anonVma} is one rwsem per mm, of the kernel's class
 * {@code &anon_vma->rwsem}, created on first use under this component's monitor.
 *
 * <p>Differences from the kernel. The model has no {@code struct anon_vma}: the anonymous
 * VMAs of one mm share one rwsem, and a child after fork has its own (the kernel's child
 * shares its parent's root anon_vma, so the two would contend on one lock); the lock class,
 * which is what lockdep orders, is the same. The kernel's lockdep does not track the folio
 * lock ({@code PG_locked} is a bit lock, and a task may hold many); hmm4j does, as its own
 * check, with one lock map of class {@code folio_lock}: it is held only over the walks listed
 * above, and {@code lock_page} ({@link Page#lock}) acquires and releases it before it may
 * wait, as {@code might_lock} would. So a lock held around {@code lock_page} is ordered before
 * the folio lock, a lock taken in a callback of one of these walks after it, and a callback
 * that calls {@code lock_page} inside the walk is a recursive acquisition of the class (a
 * real deadlock when the page is the one being unmapped, an ABBA between two walkers
 * otherwise). A trylock of a page adds no dependency, as any trylock.
 */
public final class Rmap {
    /** The lockdep class of every anon_vma rwsem, as {@code anon_vma_ctor} initialises it. */
    public static final String ANON_VMA_RWSEM = "&anon_vma->rwsem";
    /** hmm4j's lock class for the folio lock (the kernel's lockdep has none). */
    public static final String FOLIO_LOCK = "folio_lock";

    private final Kernel kernel;
    private final LockMap folioLock;
    private final Map<MmStruct, RwSemaphore> anonVmas = new IdentityHashMap<>();

    private Rmap(Kernel kernel) {
        this.kernel = kernel;
        this.folioLock = new LockMap(kernel, FOLIO_LOCK);
    }

    private static Rmap of(Kernel kernel) {
        Rmap existing = kernel.componentOrNull(Rmap.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(Rmap.class, () -> new Rmap(kernel));
    }

    /** The anon_vma rwsem of {@code mm}'s anonymous memory. */
    public static RwSemaphore anonVma(MmStruct mm) {
        Rmap r = of(mm.kernel());
        synchronized (r) {
            return r.anonVmas.computeIfAbsent(mm,
                    m -> new RwSemaphore(r.kernel, ANON_VMA_RWSEM, m.name() + "->anon_vma->rwsem"));
        }
    }

    /**
     * {@code folio_lock_anon_vma_read}: a {@code down_read_trylock}, then, if contended, a
     * sleeping {@code down_read} (rmap_walk without {@code try_lock}). Pairs with
     * {@link #anonVmaUnlockRead}. May sleep.
     */
    public static RwSemaphore anonVmaLockRead(MmStruct mm) {
        RwSemaphore sem = anonVma(mm);
        if (!sem.downReadTrylock()) {
            sem.downRead();
        }
        return sem;
    }

    /** {@code anon_vma_unlock_read}. */
    public static void anonVmaUnlockRead(RwSemaphore sem) {
        sem.upRead();
    }

    /**
     * {@code anon_vma_lock_write}: {@code down_write} of the (root) anon_vma rwsem of
     * {@code mm}'s anonymous memory, as {@code anon_vma_clone} / {@code anon_vma_fork} take it
     * to link a child's VMA and {@code unlink_anon_vmas} to unlink a dying one. Pairs with
     * {@link #anonVmaUnlockWrite}. May sleep.
     */
    public static RwSemaphore anonVmaLockWrite(MmStruct mm) {
        RwSemaphore sem = anonVma(mm);
        sem.downWrite();
        return sem;
    }

    /** {@code anon_vma_unlock_write}. */
    public static void anonVmaUnlockWrite(RwSemaphore sem) {
        sem.upWrite();
    }

    /**
     * Whether {@code vma} has an anon_vma ({@code vma->anon_vma}): the model counts every
     * private mapping as having one (the kernel's is prepared by the first anonymous fault,
     * COW or {@code migrate_vma} insert, and a VMA that never had one takes no lock).
     */
    static boolean hasAnonVma(Vma vma) {
        return !vma.isShared() && !vma.hasAny(VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP);
    }

    /**
     * {@code unlink_anon_vmas} for each VMA of {@code vmas} that has an anon_vma
     * ({@code free_pgtables}: the VMAs are hidden from the rmap before their tables go): the
     * rwsem for write and released, per VMA. The caller holds the mmap lock and no spinlock.
     * May sleep.
     */
    static void unlinkAnonVmas(MmStruct mm, Iterable<Vma> vmas) {
        for (Vma vma : vmas) {
            if (hasAnonVma(vma)) {
                anonVmaUnlockWrite(anonVmaLockWrite(mm));
            }
        }
    }

    /**
     * The anon_vma rwsem for write when {@code vma} (or {@code other}, may be null) has an
     * anon_vma, as mremap takes it ({@code copy_vma}'s {@code anon_vma_clone},
     * {@code take_rmap_locks}); the kernel's {@code vma_prepare} takes it the same way around a
     * split or merge, which the model does not yet. Returns the rwsem to give to
     * {@link #vmaComplete}, or null. May sleep.
     */
    static RwSemaphore vmaPrepare(MmStruct mm, Vma vma, Vma other) {
        if (mm == null || !(hasAnonVma(vma) || other != null && hasAnonVma(other))) {
            return null;
        }
        return anonVmaLockWrite(mm);
    }

    /** {@code vma_complete}'s anon_vma part: releases what {@link #vmaPrepare} took. */
    static void vmaComplete(RwSemaphore sem) {
        if (sem != null) {
            anonVmaUnlockWrite(sem);
        }
    }

    /**
     * Lockdep: from here the caller holds a folio lock (taken with a trylock, or earlier) across
     * an rmap walk or an invalidation. Adds no dependency itself. Pairs with
     * {@link #folioLockReleased}, called by the same task.
     */
    public static void folioLockHeld(Kernel kernel) {
        of(kernel).folioLock.acquireTry();
    }

    /** Lockdep: the folio lock announced by {@link #folioLockHeld} is no longer held across anything. */
    public static void folioLockReleased(Kernel kernel) {
        of(kernel).folioLock.release();
    }

    /** {@code lock_page}'s lockdep annotation: acquire and release the folio lock class. */
    static void mightLockFolio(Kernel kernel) {
        LockMap map = of(kernel).folioLock;
        map.acquire();
        map.release();
    }
}
