package hmm4j.kernel.mm;

import hmm4j.sim.Mark;
import hmm4j.sim.sync.RwSemaphore;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-VMA locks (include/linux/mmap_lock.h, mm/mmap_lock.c, {@code CONFIG_PER_VMA_LOCK}): the
 * page-fault fast path that does not take {@code mmap_lock}.
 *
 * <p>Overview: {@link #lockVmaUnderRcu} finds the VMA of an address without the mmap lock (the
 * kernel's RCU walk of the maple tree) and read-locks it ({@code vma_start_read}: a trylock
 * that fails while the VMA is write-locked); it then re-checks that the VMA is still in the
 * tree and still covers the address, else unlocks and answers null (the caller falls back to
 * {@code mmap_lock}). {@link #vmaEndRead} releases it. Each VMA's lock is a rw_semaphore of
 * lockdep class {@code vma->vm_lock}, made on the VMA's first lock.
 *
 * <p>Locking: the writer side is {@link #startWriteAll}, called by {@code mmap_write_lock}
 * ({@link MmStruct#mmapWriteLock}) with the mmap lock held for write: every VMA with readers is
 * write-locked and released at once ({@code vma_start_write}: wait for the readers, lockdep
 * orders {@code mmap_lock} before {@code vma->vm_lock}); until the mmap lock is released or
 * downgraded no reader gets in, because {@code vma_start_read} fails while the mmap lock is
 * held for write ({@code vm_lock_seq == mm_lock_seq}).
 *
 * <p>Differences from the kernel: the kernel write-locks only the VMAs a writer changes, at
 * the point it changes them ({@code vma_start_write} in mprotect, munmap, mmap, fork, ...); the
 * model write-locks all of an mm's VMAs when the mmap lock is taken for write, so per-VMA
 * faults are excluded from every mmap-write section (never less than the kernel excludes, a
 * fault on an untouched VMA waits where the kernel's would not). No {@code anon_vma} (the
 * kernel's {@code vmf_anon_prepare} makes the first anonymous fault of a VMA retry under the
 * mmap lock), no userfaultfd. In the native runtime the fast path is not taken (the model's VMA
 * tree is not safe for lockless readers on real threads): every fault takes the mmap lock.
 */
public final class VmaLock {
    /** Coverage mark: a CPU fault ran under a per-VMA lock. */
    public static final Mark FAULT_UNDER_VMA_LOCK = Mark.of("fault.vma-lock",
            "A CPU fault was handled under its VMA's per-VMA lock, without mmap_lock");
    /** Coverage mark: lock_vma_under_rcu found the VMA write-locked (or changed) and the fault took mmap_lock. */
    public static final Mark VMA_LOCK_MISS = Mark.of("fault.vma-lock.miss",
            "lock_vma_under_rcu found the VMA write-locked or changed; the fault fell back to mmap_lock");
    /** Coverage mark: mmap_write_lock waited for a per-VMA reader (vma_start_write). */
    public static final Mark WRITER_WAITED = Mark.of("mm.vma-start-write.waited",
            "mmap_write_lock waited for a fault holding a per-VMA lock (vma_start_write)");

    private final MmStruct mm;
    private final Map<Vma, RwSemaphore> locks = new IdentityHashMap<>();

    VmaLock(MmStruct mm) {
        this.mm = mm;
    }

    private synchronized RwSemaphore lockOf(Vma vma) {
        return locks.computeIfAbsent(vma, v -> new RwSemaphore(mm.kernel(), "vma->vm_lock",
                mm.name() + " vma[" + Long.toHexString(v.vmStart()) + "]->vm_lock"));
    }

    private synchronized List<Map.Entry<Vma, RwSemaphore>> snapshot() {
        locks.keySet().removeIf(v -> v.state() == Vma.State.REMOVED);
        return new ArrayList<>(locks.entrySet());
    }

    /**
     * {@code lock_vma_under_rcu}: the VMA containing {@code addr}, read-locked, or null if there
     * is none or it is write-locked (the caller then takes {@code mmap_lock}). The caller holds
     * no mmap lock and pins the address space. Pairs with {@link #vmaEndRead}.
     */
    public static Vma lockVmaUnderRcu(MmStruct mm, long addr) {
        if (!mm.kernel().runtime().isControlled()) {
            return null;
        }
        Vma vma = mm.vmas("lock_vma_under_rcu").vmaLookup(addr);
        if (vma == null) {
            return null;
        }
        VmaLock self = mm.vmaLocks();
        if (mm.mmapLock().isWriteLocked()) {
            mm.kernel().mark(VMA_LOCK_MISS);
            return null;
        }
        RwSemaphore lock = self.lockOf(vma);
        if (!lock.downReadTrylock()) {
            mm.kernel().mark(VMA_LOCK_MISS);
            return null;
        }
        if (mm.mmapLock().isWriteLocked() || vma.state() != Vma.State.LINKED || !vma.contains(addr)) {
            lock.upRead();
            mm.kernel().mark(VMA_LOCK_MISS);
            return null;
        }
        mm.kernel().mark(FAULT_UNDER_VMA_LOCK);
        return vma;
    }

    /** {@code vma_end_read}: releases the lock {@link #lockVmaUnderRcu} took. */
    public static void vmaEndRead(MmStruct mm, Vma vma) {
        mm.vmaLocks().lockOf(vma).upRead();
    }

    /** {@code vma_assert_locked}: true if the calling task holds {@code vma}'s per-VMA lock. */
    public static boolean heldByCurrent(MmStruct mm, Vma vma) {
        VmaLock self = mm.vmaLocksOrNull();
        if (self == null || vma == null) {
            return false;
        }
        RwSemaphore lock;
        synchronized (self) {
            lock = self.locks.get(vma);
        }
        return lock != null && lock.heldByCurrent();
    }

    /**
     * {@code vma_start_write} of every VMA with a lock, for {@code mmap_write_lock}: waits for
     * the readers of each (taking and releasing the lock for write), or, when a VMA has none,
     * only tells lockdep the write lock could be taken here. The caller holds the mmap lock for
     * write.
     */
    void startWriteAll() {
        for (Map.Entry<Vma, RwSemaphore> e : snapshot()) {
            RwSemaphore lock = e.getValue();
            if (lock.isLocked()) {
                mm.kernel().mark(WRITER_WAITED);
                lock.downWrite();
                lock.upWrite();
            } else {
                lock.mightLock();
            }
        }
    }
}
