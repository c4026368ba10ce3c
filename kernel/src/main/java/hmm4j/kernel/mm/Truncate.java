package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Taking a file's pages away from every process that maps them: truncation and hole punching
 * of a tmpfs file ({@code shmem_setattr(ATTR_SIZE)}, {@code shmem_fallocate(FALLOC_FL_PUNCH_HOLE)},
 * mm/shmem.c) through {@code unmap_mapping_range} (mm/memory.c) and the page cache
 * ({@link PageCache#truncate}, {@link PageCache#punchHole}).
 *
 * <p>Overview: {@link #unmapMappingRange} takes the file's {@code i_mmap_rwsem} for read and,
 * for every VMA of any mm mapping a part of the file range, zaps that part
 * ({@code unmap_mapping_range_vma} → {@code zap_page_range_single}) inside one blockable
 * {@code MMU_NOTIFY_CLEAR} invalidation of exactly that virtual range of that VMA's mm, owner
 * NULL. The zap takes the file's pages out of the page table and, with {@code even_cows},
 * also the private copies a {@code MAP_PRIVATE} mapping made of them (truncation); a hole
 * punch keeps those. Truncation ({@link #shmemSetattrSize}) unmaps from the rounded-up new
 * size to the end, shrinks the cache, and unmaps again (for copies made in between); a hole
 * punch ({@link #shmemPunchHole}) unmaps the whole pages of the hole once, then empties it.
 * Both run under the file's {@code i_rwsem} for write ({@code inode_lock}).
 *
 * <p>Locking, in the kernel's order: {@code i_rwsem} (write), {@code i_mmap_rwsem} (read), the
 * notifier start (callbacks may sleep; no mmap lock of any mm is held), the mm's page-table
 * lock. The lockdep classes are the kernel's, {@code &sb->s_type->i_mutex_key} and
 * {@code &mapping->i_mmap_rwsem}, so a driver that holds one of its locks across a truncation
 * while its notifier takes that lock is reported as a cycle.
 *
 * <p>Differences from the kernel: there is no {@code i_mmap} tree. The VMAs are found by
 * pinning every live mm ({@link MmList}, {@code mmget_not_zero} under {@code mmlist_lock},
 * {@code mmput_async} afterwards) and looking at its VMAs; the pin stands for the kernel's
 * guarantee that a VMA in {@code i_mmap} (and its page tables) stays while the lock is held.
 * mmap, munmap and fork do not take {@code i_mmap_rwsem} here, so each zapped entry is
 * re-checked under the page-table lock: a page of this file, or (with {@code even_cows}) any
 * entry of a VMA that is still linked and still maps the file. No file THP, no
 * {@code mapping->invalidate_lock}, no seals.
 */
public final class Truncate {
    /** Coverage mark: unmap_mapping_range zapped a page of the file from a process's page table. */
    public static final Mark UNMAPPED_FILE_PAGE = Mark.of("truncate.unmapped-file-page",
            "unmap_mapping_range zapped a page of the file from a page table");
    /** Coverage mark: truncation (even_cows) zapped a private copy of a file page. */
    public static final Mark UNMAPPED_COW = Mark.of("truncate.unmapped-cow",
            "Truncation zapped a private copy a MAP_PRIVATE mapping had made of a file page");

    private static final class Locks {
        final Map<ShmemFile, RwSemaphore[]> byFile = new WeakHashMap<>();
    }

    private Truncate() {
    }

    private static RwSemaphore[] locks(Kernel k, ShmemFile file) {
        Locks l = k.component(Locks.class, Locks::new);
        synchronized (l) {
            return l.byFile.computeIfAbsent(file, f -> new RwSemaphore[] {
                    new RwSemaphore(k, "&sb->s_type->i_mutex_key", f.name() + "->i_rwsem"),
                    new RwSemaphore(k, "&mapping->i_mmap_rwsem", f.name() + "->i_mapping->i_mmap_rwsem")});
        }
    }

    /** {@code inode->i_rwsem} of {@code file} ({@code inode_lock} takes it for write). */
    public static RwSemaphore iRwsem(Kernel k, ShmemFile file) {
        return locks(k, file)[0];
    }

    /** {@code mapping->i_mmap_rwsem} of {@code file}. */
    public static RwSemaphore iMmapRwsem(Kernel k, ShmemFile file) {
        return locks(k, file)[1];
    }

    /**
     * {@code unmap_mapping_range(mapping, holebegin, holelen, even_cows)}: unmaps the bytes
     * [holebegin, holebegin + holelen) of {@code file} (to the end of the file when
     * {@code holelen} is 0, rounded out to whole pages) from every process. May sleep.
     */
    public static void unmapMappingRange(Kernel k, ShmemFile file, long holebegin, long holelen, boolean evenCows) {
        long first = holebegin >>> Pte.PAGE_SHIFT;
        long last = holelen == 0 ? Long.MAX_VALUE : ((holebegin + holelen + Pte.PAGE_SIZE - 1) >>> Pte.PAGE_SHIFT) - 1;
        RwSemaphore iMmap = iMmapRwsem(k, file);
        iMmap.downRead();
        try {
            for (MmStruct mm : MmList.of(k).pinAll()) {
                try {
                    List<Vma> vmas = new ArrayList<>();
                    for (Vma vma : mm.vmas("unmap_mapping_range")) {
                        if (vma.file() == file) {
                            vmas.add(vma);
                        }
                    }
                    for (Vma vma : vmas) {
                        unmapMappingRangeVma(mm, vma, file, first, last, evenCows);
                    }
                } finally {
                    mm.mmputAsync();
                }
            }
        } finally {
            iMmap.upRead();
        }
    }

    /** {@code unmap_mapping_range_vma}: the part of {@code vma} mapping pages [first, last] of the file. */
    private static void unmapMappingRangeVma(MmStruct mm, Vma vma, ShmemFile file, long first, long last,
                                             boolean evenCows) {
        long vmaFirst = vma.pgoff();
        long vmaLast = vmaFirst + ((vma.vmEnd() - vma.vmStart()) >>> Pte.PAGE_SHIFT) - 1;
        long from = Math.max(first, vmaFirst);
        long to = Math.min(last, vmaLast);
        if (from > to) {
            return;
        }
        long start = vma.vmStart() + ((from - vmaFirst) << Pte.PAGE_SHIFT);
        long end = vma.vmStart() + ((to - vmaFirst + 1) << Pte.PAGE_SHIFT);
        zapPageRangeSingle(mm, vma, file, start, end, evenCows);
    }

    /**
     * {@code zap_page_range_single} with the {@code zap_details} of a file unmap: one CLEAR
     * invalidation of [start, end) of {@code mm}, the zap under its page-table lock.
     */
    private static void zapPageRangeSingle(MmStruct mm, Vma vma, ShmemFile file, long start, long end,
                                           boolean evenCows) {
        Kernel k = mm.kernel();
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, start, end);
        range.invalidateRangeStart();
        PhysMem phys = PhysMem.of(k);
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("zap_page_range_single");
            boolean stillMapsFile = vma.state() == Vma.State.LINKED && vma.file() == file;
            PteList entries = PteList.collect(pt, start, end);
            for (int i = 0; i < entries.size(); i++) {
                long addr = entries.addr(i);
                long pte = entries.pte(i);
                if (Pte.isHuge(pte)) {
                    continue;
                }
                Page page = Pte.isPresent(pte) && !Pte.isZero(pte) && !Pte.isSpecial(pte)
                        ? phys.pfnToPage(Pte.pfn(pte)) : null;
                boolean filePage = page != null && page.mapping() == file;
                boolean cow = !filePage && evenCows && stillMapsFile && !Pte.isNone(pte);
                if (!filePage && !cow) {
                    continue;
                }
                k.mark(filePage ? UNMAPPED_FILE_PAGE : UNMAPPED_COW);
                Zap.release(phys, pt, addr, pte);
                pt.set(addr, 0);
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
    }

    /**
     * {@code ftruncate} of a tmpfs file ({@code do_truncate} → {@code shmem_setattr}): under
     * {@code i_rwsem}, a shrink unmaps from the new size (rounded up to a page) to the end with
     * {@code even_cows}, shrinks the cache and unmaps again; a growth only sets the size.
     * May sleep.
     */
    public static void shmemSetattrSize(Kernel k, ShmemFile file, long newSize) {
        RwSemaphore iRwsem = iRwsem(k, file);
        iRwsem.downWrite();
        try {
            long oldSize = file.size();
            long holebegin = Pte.pageAlign(newSize);
            boolean unmap = newSize < oldSize && oldSize > holebegin;
            if (unmap) {
                unmapMappingRange(k, file, holebegin, 0, true);
            }
            PageCache.of(k).truncate(file, newSize);
            if (unmap) {
                unmapMappingRange(k, file, holebegin, 0, true);
            }
        } finally {
            iRwsem.upWrite();
        }
    }

    /**
     * {@code fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)} of a tmpfs file: under
     * {@code i_rwsem}, the whole pages of [offset, offset + len) are unmapped (private copies
     * stay), then the cache drops them and zeroes the partial edges. May sleep.
     */
    public static void shmemPunchHole(Kernel k, ShmemFile file, long offset, long len) {
        if (offset < 0 || len <= 0) {
            throw new IllegalArgumentException("bad hole " + offset + "+" + len);
        }
        RwSemaphore iRwsem = iRwsem(k, file);
        iRwsem.downWrite();
        try {
            long unmapStart = Pte.pageAlign(offset);
            long unmapEnd = ((offset + len) & Pte.PAGE_MASK) - 1;
            if (unmapEnd > unmapStart) {
                unmapMappingRange(k, file, unmapStart, 1 + unmapEnd - unmapStart, false);
            }
            PageCache.of(k).punchHole(file, offset, Math.min(offset + len, Math.max(offset, file.size())));
        } finally {
            iRwsem.upWrite();
        }
    }
}
