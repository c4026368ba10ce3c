package hmm4j.kernel.mm.hmm;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.Mark;

/**
 * {@code hmm_range_fault} (mm/hmm.c): the driver's way to learn, and if asked to establish,
 * the CPU mappings of a range of a process, so that it can mirror them in a device page
 * table without ever keeping a stale one (mm/hmm.c).
 *
 * <p>Overview. The driver opens a collision-retry section on its interval subscription
 * ({@code mmu_interval_read_begin}), calls {@link #hmmRangeFault} under the mmap lock, then
 * under its own lock checks {@code mmu_interval_read_retry} before it programs the device
 * from the outputs. {@code hmmRangeFault} walks the range ({@link HmmVmaWalk}), writing one
 * output per page; a page whose request is not met yet is faulted in with
 * {@code handle_mm_fault} and the walk restarts at that page, after re-checking the
 * subscription's sequence, so an invalidation caused by the fault itself (a COW) or by
 * anybody else is reported as {@code -EBUSY} instead of producing outputs that are already
 * stale.
 *
 * <p>Locking. The caller holds {@code notifier.mm()}'s mmap lock (read suffices; asserted as
 * {@code mmap_assert_locked}) and an {@code mm_users} reference (the pin rule: a caller
 * without one, such as a kernel thread that only did {@code mmgrab}, is reported as
 * "address space used without mmget", rule mm.pin). It must not hold its driver lock: a
 * fault may invalidate, and the invalidate callback takes that lock. The call may sleep
 * (faults, migration waits).
 *
 * <p>Differences from the kernel: see {@link HmmVmaWalk} (no huge pages, page-table lock
 * around each PTE-table scan, absent upper levels handled one PMD span at a time). A
 * requested page behind another owner's device-private entry or a device-exclusive entry is
 * faulted: the pgmap's {@code migrate_to_ram} moves it back, or the exclusive entry is
 * restored, each under an invalidation, so the caller usually sees {@code -EBUSY} once.
 */
public final class Hmm {
    /** Coverage mark: hmm_range_fault saw the notifier sequence change and returned -EBUSY. */
    public static final Mark RANGE_FAULT_BUSY = Mark.of("hmm.range-fault.busy",
            "hmm_range_fault saw the notifier sequence change and returned -EBUSY");
    /** Coverage mark: hmm_range_fault's walk faulted a page in and restarted from where it was. */
    public static final Mark RANGE_FAULT_RESTART = Mark.of("hmm.range-fault.restart",
            "hmm_range_fault's walk faulted a page in and restarted from where it was");

    private Hmm() {
    }

    /**
     * {@code hmm_range_fault}: fills {@code range.hmmPfns()} with the CPU mapping of every
     * page of [start, end), faulting in the pages whose effective request
     * ({@code (hmmPfns[i] & pfnFlagsMask) | defaultFlags}) is not met yet.
     *
     * <p>Context: the mmap lock of {@code range.notifier().mm()} held (read or write;
     * asserted), an {@code mm_users} pin (checked), the driver lock not held. May sleep.
     *
     * <p>On return 0 every page's output satisfies its request: REQ_FAULT ⇒ VALID,
     * REQ_WRITE ⇒ WRITE, and ERROR only on pages that did not ask for a fault (rule
     * hmm.range-fault-meets-request) —
     * except device-private pages owned by {@code devPrivateOwner}, reported as they are and
     * never faulted. The outputs may be consumed only under the driver lock after
     * {@code mmu_interval_read_retry} returned false. Every write of an entry keeps
     * its sticky bits ({@link HmmPfn#HMM_PFN_INOUT_FLAGS}). On an error the array is left
     * partly converted: entries below the page where the walk stopped hold outputs, the others
     * their inputs. A caller that retries with per-page requests must refill the array first,
     * since an output VALID/WRITE reads as REQ_FAULT/REQ_WRITE.
     *
     * <p>The driver's collision-retry loop (Documentation/mm/hmm.rst):
     * <pre>{@code
     * if (!mm.mmgetNotZero()) {
     *     return -Errno.EFAULT;                       // the address space is gone
     * }
     * int ret;
     * for (;;) {
     *     range.setNotifierSeq(sub.mmuIntervalReadBegin());
     *     mm.mmapReadLock();
     *     ret = Hmm.hmmRangeFault(range);
     *     mm.mmapReadUnlock();
     *     if (ret == -Errno.EBUSY) {
     *         continue;                               // collided: start again
     *     }
     *     if (ret != 0) {
     *         break;                                  // -EFAULT, -EPERM
     *     }
     *     driverLock.lock();                          // the lock invalidate() takes
     *     if (sub.mmuIntervalReadRetry(range.notifierSeq())) {
     *         driverLock.unlock();
     *         continue;
     *     }
     *     programDevicePageTable(range.hmmPfns());    // still under the driver lock
     *     driverLock.unlock();
     *     break;
     * }
     * mm.mmput();
     * return ret;
     * }</pre>
     *
     * @return 0; {@code -EBUSY} if the subscription's sequence changed since
     *         {@code range.notifierSeq()} (go back to {@code mmu_interval_read_begin});
     *         {@code -EFAULT} if a requested page cannot be made valid (no VMA, a VM_IO,
     *         VM_PFNMAP or unreadable VMA, a special mapping, a failed fault);
     *         {@code -EPERM} if a write is requested in a VMA without VM_WRITE;
     *         {@code -EINVAL} for an empty range
     * @throws IllegalStateException if the range's notifier was never inserted (it has no mm)
     */
    public static int hmmRangeFault(HmmRange range) {
        MmuIntervalNotifier sub = range.notifier();
        MmStruct mm = sub.mm();
        if (mm == null) {
            throw new IllegalStateException("hmm_range_fault on " + sub.name() + ", which was never inserted");
        }
        mm.mmapAssertLocked();
        HmmVmaWalk walk = new HmmVmaWalk(range, mm, "hmm_range_fault");
        int ret;
        do {
            if (sub.mmuIntervalCheckRetry(range.notifierSeq())) {
                mm.kernel().mark(RANGE_FAULT_BUSY);
                return -Errno.EBUSY;
            }
            ret = walk.walkPageRange(walk.last(), range.end());
            if (ret == HmmVmaWalk.RESTART) {
                mm.kernel().mark(RANGE_FAULT_RESTART);
            }
        } while (ret == HmmVmaWalk.RESTART);
        return ret;
    }
}
