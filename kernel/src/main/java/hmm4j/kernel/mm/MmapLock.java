package hmm4j.kernel.mm;

import hmm4j.kernel.sched.Signal;
import hmm4j.sim.Task;
import hmm4j.sim.sync.RwSemaphore;

/**
 * The forms of the mmap lock that may fail (include/linux/mmap_lock.h): the trylocks and
 * the killable locks, behind {@link MmStruct#mmapReadTrylock}, {@link MmStruct#mmapWriteTrylock},
 * {@link MmStruct#mmapReadLockKillable} and {@link MmStruct#mmapWriteLockKillable}.
 *
 * <p>Overview. A killable lock is {@code down_read_killable} / {@code down_write_killable}:
 * the caller sleeps as for the plain lock, in {@code TASK_KILLABLE}, and gives up with
 * {@code -EINTR} when a fatal signal is pending as it would sleep or arrives while it sleeps
 * ({@link Signal#kill} wakes it through {@link Signal#killableSleep}). A successful write
 * lock, of any form, write-locks every per-VMA lock ({@code vma_start_write}, {@link VmaLock}).
 *
 * <p>Locking: the caller holds no form of this mm's mmap lock (a killable lock is a sleeping
 * lock like the others).
 */
final class MmapLock {
    private MmapLock() {
    }

    static boolean writeTrylock(MmStruct mm) {
        if (!mm.mmapLock().downWriteTrylock()) {
            return false;
        }
        startVmaWrites(mm);
        return true;
    }

    static int readLockKillable(MmStruct mm) {
        RwSemaphore lock = mm.mmapLock();
        Task self = mm.kernel().current();
        boolean taken = Signal.killableSleep(self, lock::wakeWaiters,
                () -> lock.downReadKillable(() -> self != null && Signal.fatalSignalPending(self)));
        return taken ? 0 : -Errno.EINTR;
    }

    static int writeLockKillable(MmStruct mm) {
        RwSemaphore lock = mm.mmapLock();
        Task self = mm.kernel().current();
        boolean taken = Signal.killableSleep(self, lock::wakeWaiters,
                () -> lock.downWriteKillable(() -> self != null && Signal.fatalSignalPending(self)));
        if (!taken) {
            return -Errno.EINTR;
        }
        startVmaWrites(mm);
        return 0;
    }

    /** {@code vma_start_write} on every VMA with a per-VMA lock, after the mmap write lock was taken. */
    static void startVmaWrites(MmStruct mm) {
        VmaLock locks = mm.vmaLocksOrNull();
        if (locks != null) {
            locks.startWriteAll();
        }
    }
}
