package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;

/**
 * Advice about a range: {@code madvise} (mm/madvise.c, {@code do_madvise},
 * {@code madvise_walk_vmas}, {@code madvise_dontneed_single_vma}, {@code hugepage_madvise}),
 * with {@link #MADV_DONTNEED}, {@link #MADV_FREE} ({@link LazyFree}), {@link #MADV_COLD} and
 * {@link #MADV_PAGEOUT} ({@link MadviseCold}), {@link #MADV_HUGEPAGE},
 * {@link #MADV_NOHUGEPAGE} and {@link #MADV_COLLAPSE} ({@link Khugepaged}).
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
 * <p>{@code MADV_HUGEPAGE} / {@code MADV_NOHUGEPAGE} set {@link VmFlags#VM_HUGEPAGE} /
 * {@link VmFlags#VM_NOHUGEPAGE} (clearing the other) on the VMAs of the range, under the mmap
 * lock for write, splitting VMAs at the range's edges (and a PMD leaf around an unaligned
 * edge, with its CLEAR event, as {@code vma_adjust_trans_huge} does); they send no other
 * event and leave existing mappings as they are. {@code MADV_DONTNEED} of part of a PMD leaf
 * splits the leaf inside the advice's CLEAR invalidation (a nested CLEAR of the 2 MiB range,
 * as {@code zap_pmd_range} calls {@code __split_huge_pmd}), then zaps the part asked for.
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
    /** {@code MADV_COLD}: see {@link MadviseCold}. */
    public static final int MADV_COLD = 20;
    /** {@code MADV_PAGEOUT}: see {@link MadviseCold}. */
    public static final int MADV_PAGEOUT = 21;
    /** {@code MADV_FREE}: see {@link LazyFree}. */
    public static final int MADV_FREE = 8;
    /** {@code MADV_COLLAPSE}: see {@link Khugepaged}. */
    public static final int MADV_COLLAPSE = 25;
    /** {@code MADV_HUGEPAGE}. */
    public static final int MADV_HUGEPAGE = 14;
    /** {@code MADV_NOHUGEPAGE}. */
    public static final int MADV_NOHUGEPAGE = 15;

    private Madvise() {
    }

    /**
     * {@code madvise}: applies {@code advice} to [{@code addr}, {@code addr + len}) (len
     * rounded up to pages). Takes the mmap lock for read; may sleep.
     *
     * @return 0 (also for {@code len == 0}); {@code -EINVAL} for an advice other than
     *         {@link #MADV_DONTNEED}, {@link #MADV_FREE}, {@link #MADV_COLD}, {@link #MADV_PAGEOUT}, {@link #MADV_HUGEPAGE},
     *         {@link #MADV_NOHUGEPAGE} and {@link #MADV_COLLAPSE} (which has its own errors), an unaligned address, a length that wraps, or a
     *         locked, {@code VM_PFNMAP} or hugetlb VMA in the range (the VMAs before it are
     *         already done); {@code -ENOMEM} if the range has unmapped holes (the mapped parts
     *         are done)
     */
    public static int madvise(MmStruct mm, long addr, long len, int advice) {
        if (advice == Ksm.MADV_MERGEABLE) {
            return Ksm.madviseMergeable(mm, addr, len);
        }
        if (advice == Ksm.MADV_UNMERGEABLE) {
            return Ksm.madviseUnmergeable(mm, addr, len);
        }
        boolean hugepage = advice == MADV_HUGEPAGE || advice == MADV_NOHUGEPAGE || advice == MADV_COLLAPSE;
        boolean known = advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_COLD
                || advice == MADV_PAGEOUT || hugepage;
        if (!known || !Pte.isPageAligned(addr)) {
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
        if (hugepage) {
            mm.mmapWriteLock();
        } else {
            mm.mmapReadLock();
        }
        try {
            int ret = walkVmas(mm, addr, walkEnd, (vma, from, to) -> vmaBehavior(mm, vma, from, to, advice));
            return ret == 0 && beyond ? -Errno.ENOMEM : ret;
        } finally {
            if (hugepage) {
                mm.mmapWriteUnlock();
            } else {
                mm.mmapReadUnlock();
            }
        }
    }

    /**
     * One VMA's part of an advice in {@link #walkVmas} ({@code madvise_vma_behavior}, or KSM's
     * {@code ksm_madvise} + {@code madvise_update_vma}).
     */
    @FunctionalInterface
    interface VmaVisitor {
        /**
         * The advice for [{@code start}, {@code end}), which lies inside {@code vma}; mmap lock
         * held as the caller of the walk took it.
         *
         * @return 0, or an error that ends the walk with that error
         */
        int visit(Vma vma, long start, long end);
    }

    /**
     * {@code madvise_walk_vmas}: {@code visit} for every VMA piece of [start, end) (each VMA
     * clipped to the range, in address order, the next VMA looked up again after each visit,
     * since a visit may split or merge VMAs). Mmap lock held (read or write, as the advice needs).
     *
     * @return the first visit's error; else {@code -ENOMEM} if the range has holes (the mapped
     *         parts are done); else 0
     */
    static int walkVmas(MmStruct mm, long start, long end, VmaVisitor visit) {
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
            int err = visit.visit(vma, start, pieceEnd);
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

    /** {@code madvise_vma_behavior}: {@code advice} (not a KSM one) for [start, end) of {@code vma}. */
    private static int vmaBehavior(MmStruct mm, Vma vma, long start, long end, int advice) {
        return switch (advice) {
            case MADV_DONTNEED -> dontneedSingleVma(mm, vma, start, end);
            case MADV_FREE -> LazyFree.madviseFreeSingleVma(mm, vma, start, end);
            case MADV_COLD -> MadviseCold.coldOrPageoutSingleVma(mm, vma, start, end, false);
            case MADV_PAGEOUT -> MadviseCold.coldOrPageoutSingleVma(mm, vma, start, end, true);
            case MADV_COLLAPSE -> Khugepaged.madviseCollapse(mm, vma, start, end);
            default -> hugepageMadvise(mm, vma, start, end, advice);
        };
    }

    /** {@code madvise_dontneed_single_vma}: one CLEAR invalidation around the zap of [start, end). */
    private static int dontneedSingleVma(MmStruct mm, Vma vma, long start, long end) {
        if (vma.hasAny(VmFlags.VM_LOCKED | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB)) {
            return -Errno.EINVAL;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, start, end);
        range.invalidateRangeStart();
        HugeMemory.splitHugePmdEdges(mm, start, end);
        mm.pageTableLock().lock();
        try {
            Zap.zapRange(PhysMem.of(mm.kernel()), mm.pgd("madvise_dontneed"), start, end);
        } finally {
            mm.pageTableLock().unlock();
        }
        range.invalidateRangeEnd();
        return 0;
    }

    /**
     * {@code hugepage_madvise} + {@code madvise_update_vma} for one VMA piece: its new THP
     * flags, the tree split at the piece's edges. Mmap write lock held.
     */
    private static int hugepageMadvise(MmStruct mm, Vma vma, long start, long end, int advice) {
        long flags = advice == MADV_HUGEPAGE
                ? (vma.flags() & ~VmFlags.VM_NOHUGEPAGE) | VmFlags.VM_HUGEPAGE
                : (vma.flags() & ~VmFlags.VM_HUGEPAGE) | VmFlags.VM_NOHUGEPAGE;
        if (flags == vma.flags()) {
            return 0;
        }
        HugeMemory.splitHugePmdEdges(mm, start, end);
        mm.vmas("madvise").applyFlags(start, end, flags);
        return 0;
    }
}
