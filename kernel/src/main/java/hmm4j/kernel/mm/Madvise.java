package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;

/**
 * Advice about a range: {@code madvise} (mm/madvise.c, {@code do_madvise},
 * {@code madvise_walk_vmas}, {@code madvise_dontneed_single_vma}), with
 * {@link #MADV_DONTNEED} as the one supported advice.
 *
 * <p>Overview. {@code MADV_DONTNEED} throws away the page-table entries of the range, VMA by
 * VMA, as {@code zap_page_range_single} does: an anonymous page loses its mapping and is freed
 * with its last reference, a page-cache page is only unmapped, a swap entry frees its slot. The
 * VMAs stay. A later access faults afresh: anonymous memory reads as zeros, a private file
 * mapping reads the file again (its private copies are gone), a shared mapping reads the
 * page cache, which still holds the data.
 *
 * <p>Notifiers. Each VMA of the range gets one {@code MMU_NOTIFY_CLEAR} invalidation over
 * exactly its intersection with the range, around the zap, outside the page-table spinlock
 * (callbacks may sleep), whether or not anything was mapped there, as
 * {@code zap_page_range_single} issues it.
 *
 * <p>Holes. As in the kernel, the advice is applied to the mapped parts of a range with
 * holes and the call then returns {@code -ENOMEM}; if no VMA lies at or above the start it
 * returns {@code -ENOMEM} at once.
 *
 * <p>Locking: takes the mmap lock for read (the advice changes no VMA), then per VMA the
 * notifier start, the page-table lock, the notifier end. The caller holds an
 * {@code mm_users} pin, checked at the VMA tree.
 *
 * <p>Differences from the kernel: no per-VMA locks, no {@code process_madvise}, no other
 * advice; page tables emptied by the zap are not freed.
 */
public final class Madvise {
    /** {@code MADV_DONTNEED}. */
    public static final int MADV_DONTNEED = 4;

    private Madvise() {
    }

    /**
     * {@code madvise}: applies {@code advice} to [{@code addr}, {@code addr + len}) (len
     * rounded up to pages). Takes the mmap lock for read; may sleep.
     *
     * @return 0 (also for {@code len == 0}); {@code -EINVAL} for an advice other than
     *         {@link #MADV_DONTNEED}, an unaligned address, a length that wraps, or a
     *         locked, {@code VM_PFNMAP} or hugetlb VMA in the range (the VMAs before it are
     *         already done); {@code -ENOMEM} if the range has unmapped holes (the mapped parts
     *         are done)
     */
    public static int madvise(MmStruct mm, long addr, long len, int advice) {
        if (advice != MADV_DONTNEED || !Pte.isPageAligned(addr)) {
            return -Errno.EINVAL;
        }
        long aligned = (len + Pte.PAGE_SIZE - 1) & Pte.PAGE_MASK;
        if (len != 0 && aligned == 0) {
            return -Errno.EINVAL;
        }
        long end = addr + aligned;
        if (Long.compareUnsigned(end, addr) < 0) {
            return -Errno.EINVAL;
        }
        if (end == addr) {
            return 0;
        }
        if (Long.compareUnsigned(addr, Pte.TASK_SIZE) >= 0) {
            return -Errno.ENOMEM;
        }
        boolean beyond = Long.compareUnsigned(end, Pte.TASK_SIZE) > 0;
        long walkEnd = beyond ? Pte.TASK_SIZE : end;
        mm.mmapReadLock();
        try {
            int ret = walkVmas(mm, addr, walkEnd);
            return ret == 0 && beyond ? -Errno.ENOMEM : ret;
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** {@code madvise_walk_vmas}: the advice for every VMA piece of [start, end); mmap lock held. */
    private static int walkVmas(MmStruct mm, long start, long end) {
        int unmappedError = 0;
        Vma vma = mm.findVma(start);
        while (true) {
            if (vma == null) {
                return -Errno.ENOMEM;
            }
            if (start < vma.vmStart()) {
                unmappedError = -Errno.ENOMEM;
                start = vma.vmStart();
                if (start >= end) {
                    break;
                }
            }
            long pieceEnd = Math.min(vma.vmEnd(), end);
            int err = dontneedSingleVma(mm, vma, start, pieceEnd);
            if (err != 0) {
                return err;
            }
            start = pieceEnd;
            if (start >= end) {
                break;
            }
            vma = mm.findVma(start);
        }
        return unmappedError;
    }

    /** {@code madvise_dontneed_single_vma}: one CLEAR invalidation around the zap of [start, end). */
    private static int dontneedSingleVma(MmStruct mm, Vma vma, long start, long end) {
        if (vma.hasAny(VmFlags.VM_LOCKED | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB)) {
            return -Errno.EINVAL;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, start, end);
        range.invalidateRangeStart();
        mm.pageTableLock().lock();
        try {
            Zap.zapRange(PhysMem.of(mm.kernel()), mm.pgd("madvise_dontneed"), start, end);
        } finally {
            mm.pageTableLock().unlock();
        }
        range.invalidateRangeEnd();
        return 0;
    }
}
