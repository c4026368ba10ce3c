package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import java.util.List;

/**
 * Creating and removing mappings: {@code mmap} and {@code munmap} (mm/mmap.c, mm/vma.c).
 *
 * <p>Every path that removes PTEs brackets the removal with
 * {@code mmu_notifier_invalidate_range_start/end} of event {@code MMU_NOTIFY_UNMAP} over
 * exactly the unmapped range. Both take the mmap lock for write; munmap detaches the VMAs
 * and downgrades it to read before the invalidation ({@link #doVmiMunmap}). The caller is a
 * task of the mm or holds an {@code mm_users} pin (the pin rule is checked at the VMA tree).
 */
public final class Mmap {
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    /** {@code MAP_NORESERVE}: no hugetlb reservation (and {@code VM_NORESERVE}). */
    public static final int MAP_NORESERVE = 0x4000;
    /** {@code MAP_HUGETLB}: anonymous memory of the default huge page size ({@link Hugetlb}). */
    public static final int MAP_HUGETLB = 0x40000;
    /** {@code MAP_HUGE_SHIFT}: flags bits 26..31 of a {@link #MAP_HUGETLB} mmap give log2 of the page size (0: default). */
    public static final int MAP_HUGE_SHIFT = 26;
    /** {@code MAP_HUGE_MASK}: the width of the size field. */
    public static final int MAP_HUGE_MASK = 0x3f;
    /** {@code MAP_HUGE_2MB}. */
    public static final int MAP_HUGE_2MB = 21 << MAP_HUGE_SHIFT;
    /** {@code MAP_HUGE_1GB}. */
    public static final int MAP_HUGE_1GB = 30 << MAP_HUGE_SHIFT;

    private Mmap() {
    }

    /** VM_* flags for a protection and mapping type, with the MAY bits the kernel adds. */
    static long vmFlags(int prot, int flags) {
        long vm = 0;
        if ((prot & PROT_READ) != 0) vm |= VmFlags.VM_READ;
        if ((prot & PROT_WRITE) != 0) vm |= VmFlags.VM_WRITE;
        if ((prot & PROT_EXEC) != 0) vm |= VmFlags.VM_EXEC;
        vm |= VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;
        if ((flags & MAP_SHARED) != 0) vm |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE;
        return vm;
    }

    /**
     * {@code mmap}: maps {@code len} bytes (rounded up to pages) at {@code addr} (a hint, or
     * exact with {@link #MAP_FIXED}, which first unmaps what was there). Anonymous mappings
     * pass {@code file == null}; a shared anonymous mapping gets a fresh tmpfs-like file, as
     * the kernel does. {@link #MAP_HUGETLB} (private anonymous only in the model) rounds the
     * length up to huge pages, places the mapping at a huge-page boundary and reserves its
     * huge pages unless {@link #MAP_NORESERVE} ({@link Hugetlb}). Takes the mmap lock for write.
     *
     * @return the address, or {@code -EINVAL} (bad length, flags or alignment) or
     *         {@code -ENOMEM} (no room, or not enough free huge pages to reserve)
     */
    public static long mmap(MmStruct mm, long addr, long len, int prot, int flags, ShmemFile file, long pgoff) {
        if (len <= 0 || ((flags & MAP_SHARED) != 0) == ((flags & MAP_PRIVATE) != 0)
                || ((flags & MAP_ANONYMOUS) != 0) != (file == null)) {
            return -Errno.EINVAL;
        }
        if ((flags & MAP_HUGETLB) != 0) {
            return mmapHugetlb(mm, addr, len, prot, flags);
        }
        long size = Pte.pageAlign(len);
        if ((flags & MAP_FIXED) != 0 && (!Pte.isPageAligned(addr) || addr < VmaTree.MMAP_MIN_ADDR
                || Long.compareUnsigned(addr + size, Pte.TASK_SIZE) > 0)) {
            return (!Pte.isPageAligned(addr)) ? -Errno.EINVAL : -Errno.ENOMEM;
        }
        mm.mmapWriteLock();
        try {
            VmaTree vmas = mm.vmas("mmap");
            long start;
            if ((flags & MAP_FIXED) != 0) {
                unmapLocked(mm, addr, size);
                start = addr;
            } else {
                start = vmas.findFreeRange(size, Pte.isPageAligned(addr) ? addr : 0);
                if (start < 0) {
                    return -Errno.ENOMEM;
                }
            }
            ShmemFile backing = file;
            if (backing == null && (flags & MAP_SHARED) != 0) {
                backing = PageCache.of(mm.kernel()).createFile("dev/zero(" + mm.name() + ")", size);
                pgoff = 0;
            }
            Vma vma = new Vma(start, start + size, vmFlags(prot, flags), backing, pgoff);
            vmas.insert(vma);
            vmas.mergeAround(vma);
            return start;
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** A driver's {@code f_op->mmap} as {@link #mmapFile} calls it, with the mmap write lock held. */
    @FunctionalInterface
    public interface FileMmap {
        /** Sets up {@code vma} (flags, {@code remap_pfn_range}); 0 or a negative errno. */
        int mmap(Vma vma);
    }

    /** {@code mmap(NULL, len, prot, flags, fd, 0)} of a driver's file: {@link #mmapFile(MmStruct, long, long, int, int, hmm4j.kernel.fs.FileRef, long, FileMmap)} at a free address, offset 0. */
    public static long mmapFile(MmStruct mm, long len, int prot, int flags, hmm4j.kernel.fs.FileRef file,
                                FileMmap fop) {
        return mmapFile(mm, 0, len, prot, flags, file, 0, fop);
    }

    /**
     * {@code do_mmap} of a driver's file ({@code mmap_region} calling {@code call_mmap}): a
     * new VMA of {@code len} bytes (rounded up to pages) mapping the file from page
     * {@code pgoff} on ({@code vm_pgoff}, which the driver's {@code mmap} reads, for instance
     * to choose the pfns), whose {@code vm_file} takes a reference to {@code file}, handed to
     * {@code fop} under the mmap write lock and linked if it returns 0. {@code addr} is a hint,
     * or exact with {@link #MAP_FIXED}: then what was mapped in the range is unmapped first,
     * with its {@code MMU_NOTIFY_UNMAP} invalidation, before the driver is called
     * ({@code vms_gather_munmap_vmas}, {@code vms_clean_up_area}); if the driver fails after
     * that, the old mappings stay gone and a hole is left, as in the kernel. If the driver
     * fails, what it mapped is zapped and the reference dropped. May sleep.
     *
     * @return the address, or {@code -EINVAL} (bad length or flags: exactly one of
     *         {@code MAP_SHARED}/{@code MAP_PRIVATE}, no {@code MAP_ANONYMOUS} or
     *         {@code MAP_HUGETLB}; a {@code MAP_FIXED} address not page aligned),
     *         {@code -EOVERFLOW} (the file range wraps), {@code -ENOMEM} (no room, or a
     *         {@code MAP_FIXED} range outside the user address space), or the driver's error
     */
    public static long mmapFile(MmStruct mm, long addr, long len, int prot, int flags,
                                hmm4j.kernel.fs.FileRef file, long pgoff, FileMmap fop) {
        if (len <= 0 || ((flags & MAP_SHARED) != 0) == ((flags & MAP_PRIVATE) != 0)
                || (flags & (MAP_ANONYMOUS | MAP_HUGETLB)) != 0 || pgoff < 0) {
            return -Errno.EINVAL;
        }
        long size = Pte.pageAlign(len);
        if (pgoff + (size >>> Pte.PAGE_SHIFT) < pgoff) {
            return -Errno.EOVERFLOW;
        }
        boolean fixed = (flags & MAP_FIXED) != 0;
        if (fixed && !Pte.isPageAligned(addr)) {
            return -Errno.EINVAL;
        }
        if (fixed && (addr < VmaTree.MMAP_MIN_ADDR || Long.compareUnsigned(addr + size, Pte.TASK_SIZE) > 0)) {
            return -Errno.ENOMEM;
        }
        mm.mmapWriteLock();
        try {
            VmaTree vmas = mm.vmas("mmap");
            long start;
            if (fixed) {
                unmapLocked(mm, addr, size);
                start = addr;
            } else {
                start = vmas.findFreeRange(size, Pte.isPageAligned(addr) ? addr : 0);
                if (start < 0) {
                    return -Errno.ENOMEM;
                }
            }
            Vma vma = new Vma(start, start + size, vmFlags(prot, flags), null, pgoff);
            file.getFile();
            vma.setVmFile(file);
            int ret = fop.mmap(vma);
            if (ret != 0) {
                mm.pageTableLock().lock();
                try {
                    Zap.zapRange(PhysMem.of(mm.kernel()), mm.pgd("mmap"), start, start + size);
                } finally {
                    mm.pageTableLock().unlock();
                }
                file.fputDeferred();
                return ret;
            }
            vmas.insert(vma);
            return start;
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** The {@code MAP_HUGETLB} case of {@link #mmap} ({@code hugetlb_file_setup}, {@code hugetlb_get_unmapped_area}). */
    private static long mmapHugetlb(MmStruct mm, long addr, long len, int prot, int flags) {
        int shift = (flags >>> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
        if (shift == 0) {
            shift = Pte.PMD_SHIFT; // default_hstate
        }
        if (!Hugetlb.isSupportedShift(shift)) {
            return -Errno.EINVAL; // hstate_sizelog: no hstate of that size
        }
        long hsize = 1L << shift;
        if ((flags & MAP_SHARED) != 0 || Long.compareUnsigned(len, Pte.TASK_SIZE) > 0) {
            return -Errno.EINVAL;
        }
        long size = (len + hsize - 1) & -hsize;
        if ((flags & MAP_FIXED) != 0 && (addr & (hsize - 1)) != 0) {
            return -Errno.EINVAL;
        }
        if ((flags & MAP_FIXED) != 0 && (addr < VmaTree.MMAP_MIN_ADDR
                || Long.compareUnsigned(addr + size, Pte.TASK_SIZE) > 0)) {
            return -Errno.ENOMEM;
        }
        boolean noreserve = (flags & MAP_NORESERVE) != 0;
        Hugetlb pool = Hugetlb.of(mm.kernel());
        mm.mmapWriteLock();
        try {
            VmaTree vmas = mm.vmas("mmap");
            long start;
            if ((flags & MAP_FIXED) != 0) {
                if (!Hugetlb.splitAllowed(vmas, addr, addr + size)) {
                    return -Errno.EINVAL;
                }
                start = addr;
            } else {
                long hint = (addr & (hsize - 1)) == 0 ? addr : 0;
                long free = vmas.findFreeRange(size + hsize, hint);
                if (free < 0) {
                    return -Errno.ENOMEM;
                }
                start = (free + hsize - 1) & -hsize;
            }
            if (!noreserve && !pool.reserve(shift, size / hsize)) {
                return -Errno.ENOMEM;
            }
            if ((flags & MAP_FIXED) != 0) {
                unmapLocked(mm, start, size);
            }
            long vm = vmFlags(prot, flags) | VmFlags.VM_HUGETLB | VmFlags.VM_DONTEXPAND
                    | (noreserve ? VmFlags.VM_NORESERVE : 0);
            Vma vma = new Vma(start, start + size, vm, null, 0);
            vma.setHugePageShift(shift);
            vmas.insert(vma);
            return start;
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** {@code mmap} of private anonymous memory at a kernel-chosen address. */
    public static long mmapAnonymous(MmStruct mm, long len, int prot) {
        return mmap(mm, 0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    }

    /**
     * {@code munmap} ({@code __vm_munmap} with {@code unlock}): removes every mapping in
     * [addr, addr + len), splitting VMAs at the edges. Takes the mmap lock for write, detaches
     * the VMAs from the tree, downgrades the lock to read and only then issues the
     * {@code MMU_NOTIFY_UNMAP} invalidation and tears down the page tables, as
     * {@code do_vmi_align_munmap} does ({@link #doVmiMunmap}); returns with the lock released.
     *
     * @return 0, or {@code -EINVAL} for an unaligned address or a bad length, or an edge
     *         inside a hugetlb VMA that is not at a huge-page boundary
     */
    public static int munmap(MmStruct mm, long addr, long len) {
        if (!Pte.isPageAligned(addr) || len <= 0 || Long.compareUnsigned(addr + Pte.pageAlign(len), Pte.TASK_SIZE) > 0) {
            return -Errno.EINVAL;
        }
        mm.mmapWriteLock();
        if (!Hugetlb.splitAllowed(mm.vmas("munmap"), addr, addr + Pte.pageAlign(len))) {
            mm.mmapWriteUnlock();
            return -Errno.EINVAL;
        }
        doVmiMunmap(mm, addr, Pte.pageAlign(len), true);
        return 0;
    }

    /**
     * {@code do_vmi_munmap} with the mmap write lock held and no unlock: the VMAs are detached,
     * then the range is invalidated and cleared with the write lock still held (MAP_FIXED,
     * mremap). Returns with the write lock held.
     */
    static void unmapLocked(MmStruct mm, long start, long size) {
        doVmiMunmap(mm, start, size, false);
    }

    /**
     * {@code do_vmi_munmap} → {@code do_vmi_align_munmap}. The caller holds the mmap lock for
     * write. {@code vms_gather_munmap_vmas}: the VMAs straddling the edges are split (and a huge
     * PMD across an edge), and every VMA of the range is detached from the tree. Then
     * {@code vms_complete_munmap_vmas}: with {@code unlock} the lock is downgraded to read
     * ({@code mmap_write_downgrade}), so from here on readers run concurrently and find no VMA
     * in the range ({@code hmm_range_fault} gets {@code -EFAULT}); {@code vms_clear_ptes}
     * brackets {@code unmap_vmas} with one blockable {@code MMU_NOTIFY_UNMAP} invalidation of
     * the whole range (owner none) and frees the page tables ({@code free_pgtables}); with
     * {@code unlock} the read lock is released at the end ({@code mmap_read_unlock}), else the
     * write lock is still held on return.
     */
    static void doVmiMunmap(MmStruct mm, long start, long size, boolean unlock) {
        mm.mmapAssertWriteLocked();
        VmaTree vmas = mm.vmas("munmap");
        long end = start + size;
        if (vmas.intersecting(start, end).isEmpty()) {
            if (unlock) {
                mm.mmapWriteUnlock();
            }
            return;
        }
        HugeMemory.splitHugePmdEdges(mm, start, end);
        List<Vma> detached = vmas.removeRange(start, end);
        if (unlock) {
            mm.mmapWriteDowngrade();
        }
        try {
            clearPtes(mm, detached, start, end);
        } finally {
            if (unlock) {
                mm.mmapReadUnlock();
            }
        }
    }

    /**
     * {@code vms_clear_ptes}: the UNMAP invalidation around the zap of the detached VMAs
     * ({@code unmap_vmas}), then {@code free_pgtables}. Mmap lock held, for read or write.
     */
    private static void clearPtes(MmStruct mm, List<Vma> detached, long start, long end) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, start, end);
        range.invalidateRangeStart();
        mm.pageTableLock().lock();
        try {
            PageTable pt = mm.pgd("munmap");
            for (Vma vma : detached) {
                Hugetlb.unreserveRange(mm, pt, vma, start, end);
            }
            Zap.zapRange(PhysMem.of(mm.kernel()), pt, start, end);
        } finally {
            mm.pageTableLock().unlock();
        }
        range.invalidateRangeEnd();
        // free_pgtables: unlink_anon_vmas first, then the tables.
        Rmap.unlinkAnonVmas(mm, detached);
        mm.pageTableLock().lock();
        try {
            mm.pgd("free_pgtables").freeTables(start, end);
        } finally {
            mm.pageTableLock().unlock();
        }
    }
}
