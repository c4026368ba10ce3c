package hmm4j.drivers.notifier;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.PageCache;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.mm.Truncate;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.Mutex;

/**
 * A GPU-style device with two kinds of memory, as DRM drivers have: buffer objects backed by
 * a tmpfs file that the process maps (GEM shmem objects), and a userptr mirror of ordinary
 * process memory through an interval notifier whose invalidate takes {@code dev->lock}.
 *
 * <p>Releasing an object takes its pages away from the process, {@code unmap_mapping_range}
 * of the object's file (here a truncation to size 0), which starts {@code MMU_NOTIFY_CLEAR}
 * invalidations. {@link #releasingUnderLock} does that while holding {@code dev->lock} (the
 * driver wants the object list and the release atomic): every notifier callback of the mm may
 * run inside, and its own callback takes {@code dev->lock}, so lockdep sees
 * {@code dev->lock → i_rwsem → i_mmap_rwsem → mmu_notifier_invalidate_range_start → dev->lock},
 * the shape of i915's {@code struct_mutex} splats around {@code i915_gem_release_mmap}.
 * {@link #releasingAfterUnlock} takes the object off its list under the lock and unmaps after
 * dropping it.
 */
public final class ShmemObjectDevice {
    /** Coverage mark: the userptr invalidate of this device ran (took dev->lock inside an invalidation). */
    public static final Mark USERPTR_INVALIDATED = Mark.of("driver.shmem-object.userptr-invalidated",
            "The device's userptr invalidate took dev->lock inside an invalidation");

    private final Kernel kernel;
    private final Mutex lock;
    private final ShmemFile object;
    private final MmuIntervalNotifier userptr;
    private final boolean unmapUnderLock;
    private boolean released;

    private ShmemObjectDevice(Kernel kernel, MmStruct mm, long userptrStart, long userptrLength, long objectSize,
                              boolean unmapUnderLock) {
        this.kernel = kernel;
        this.unmapUnderLock = unmapUnderLock;
        this.lock = new Mutex(kernel, "dev->lock");
        this.object = PageCache.of(kernel).createFile("gem-object", objectSize);
        this.userptr = new MmuIntervalNotifier("dev->userptr");
        int ret = userptr.mmuIntervalNotifierInsert(mm, userptrStart, userptrLength, (sub, range, curSeq) -> {
            if (!InvalidateLock.lockFor(lock, range)) {
                return false;
            }
            kernel.mark(USERPTR_INVALIDATED);
            sub.mmuIntervalSetSeq(curSeq);
            lock.unlock();
            return true;
        });
        if (ret != 0) {
            throw new IllegalStateException("mmu_interval_notifier_insert failed: " + ret);
        }
    }

    /** The wrong design: the object's pages are unmapped with {@code dev->lock} held. Process context. */
    public static ShmemObjectDevice releasingUnderLock(Kernel k, MmStruct mm, long start, long length, long objectSize) {
        return new ShmemObjectDevice(k, mm, start, length, objectSize, true);
    }

    /** The fixed design: unmapped after {@code dev->lock} is dropped. Process context. */
    public static ShmemObjectDevice releasingAfterUnlock(Kernel k, MmStruct mm, long start, long length,
                                                         long objectSize) {
        return new ShmemObjectDevice(k, mm, start, length, objectSize, false);
    }

    /** The object's backing file, for the process to {@code mmap}. */
    public ShmemFile object() {
        return object;
    }

    /** The release ioctl: the object leaves the device and its pages leave every mapping. May sleep. */
    public void releaseObject() {
        lock.lock();
        boolean first = !released;
        released = true;
        if (!unmapUnderLock) {
            lock.unlock();
        }
        if (first) {
            Truncate.shmemSetattrSize(kernel, object, 0);
        }
        if (unmapUnderLock) {
            lock.unlock();
        }
    }

    /** Removes the userptr subscription. Process context. */
    public void close() {
        userptr.mmuIntervalNotifierRemove();
    }
}
