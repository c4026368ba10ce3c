package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;

/**
 * Moving and resizing a mapping: {@code mremap} (mm/mremap.c, {@code do_mremap},
 * {@code mremap_to}, {@code mremap_at}, {@code move_vma}, {@code move_page_tables}).
 *
 * <p>Overview. Under the mmap write lock, [{@code addr}, {@code addr + old_len}), which must lie
 * in one VMA, is shrunk in place (the tail is unmapped), grown in place when the space above
 * the VMA is free, or moved: with {@link #MREMAP_MAYMOVE} to a free range the kernel chooses,
 * with {@link #MREMAP_FIXED} to exactly {@code new_addr} (whatever was there is unmapped
 * first). A move links a copy of the VMA at the destination (same flags, same file, the
 * {@code pgoff} of the moved part), then moves the page-table entries one by one: every
 * entry keeps its page, its reference and its map count, only its address changes. Present
 * entries, swap entries, migration entries and device-private entries all move; a
 * device-private page's place (and a device page's migration entry's place) is moved in
 * its pgmap's device rmap. The source range is then unmapped, unless
 * {@link #MREMAP_DONTUNMAP} keeps the now empty source VMA (an anonymous one then faults in
 * fresh zero-filled pages).
 *
 * <p>Notifiers. The entry move is bracketed by one {@code MMU_NOTIFY_UNMAP} invalidation
 * over exactly the moved source range [{@code addr}, {@code addr + len}) (the kernel's
 * {@code move_page_tables}), started and ended with the mmap write lock held and no spinlock.
 * A mirror must drop its entries for that range: the addresses no longer map those pages.
 * The destination gets no invalidation of its own beyond the {@code munmap} that
 * {@link #MREMAP_FIXED} does when something was mapped there; without
 * {@link #MREMAP_DONTUNMAP} the munmap of the source sends a second {@code UNMAP} over the
 * source range, as the kernel's {@code do_vmi_munmap} does even though no entry is left.
 *
 * <p>Locking: mmap lock for write for the whole call; the page-table lock around the entry
 * move, inside the invalidation. The anon_vma rwsem (write) of a private VMA is taken by the
 * destination's {@code anon_vma_clone} ({@code copy_vma}) and around the entry move when a whole PMD table would move ({@code take_rmap_locks}:
 * inside the invalidation, outside the page-table lock). The caller is a task of the mm or holds an {@code mm_users}
 * pin (the pin rule is checked at the VMA tree and the page table).
 *
 * <p>Differences from the kernel:
 * <ul>
 *   <li>The kernel takes the old and the new PTE table's locks (the new one nested); the model
 *       has one page-table lock per mm.</li>
 *   <li>No hugetlb, userfaultfd, mlock accounting, {@code mseal} or {@code max_map_count}
 *       checks; an {@code old_len} of 0 (duplicating a shared mapping) is refused with
 *       {@code -EINVAL} for every mapping, where the kernel accepts it for shared ones.</li>
 *   <li>A PMD leaf (a THP) in the source range is split first ({@code split_huge_pmd}: one
 *       {@code MMU_NOTIFY_CLEAR} of its 2 MiB, {@link #HUGE_SPLIT}) and its 512 entries move as
 *       PTEs. The kernel splits only a leaf it cannot move whole, and moves an aligned one as
 *       one PMD ({@code move_huge_pmd}, no CLEAR); its split also comes inside the UNMAP range,
 *       the model's before it.</li>
 *   <li>The kernel walks its device rmap (anon_vma) to find a migration entry that mremap
 *       moved; the model's {@code migrate_vma} restores entries at the place it collected
 *       them, which is safe because {@code migrate_vma} holds the mmap lock that mremap needs
 *       for write.</li>
 * </ul>
 */
public final class Mremap {
    /** {@code MREMAP_MAYMOVE}: the mapping may be moved. */
    public static final int MREMAP_MAYMOVE = 1;
    /** {@code MREMAP_FIXED}: move to exactly {@code new_addr} (needs {@link #MREMAP_MAYMOVE}). */
    public static final int MREMAP_FIXED = 2;
    /** {@code MREMAP_DONTUNMAP}: move the pages but keep the source VMA (needs MAYMOVE, same length). */
    public static final int MREMAP_DONTUNMAP = 4;

    /** Coverage mark: mremap moved page-table entries to a new address. */
    public static final Mark MOVED = Mark.of("mremap.moved", "mremap moved page-table entries to a new address");
    /** Coverage mark: mremap moved a device-private entry (its device rmap place moved too). */
    public static final Mark MOVED_DEVICE_PRIVATE = Mark.of("mremap.moved.device-private",
            "mremap moved a device-private entry, and its place in the device rmap");
    /** Coverage mark: mremap split a PMD leaf of its source range before moving it. */
    public static final Mark HUGE_SPLIT = Mark.of("mremap.huge.split",
            "mremap split a PMD-mapped THP of its source range before moving its entries");

    private static final int KNOWN_FLAGS = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;

    private Mremap() {
    }

    /**
     * {@code mremap(addr, old_len, new_len, flags, new_addr)} in {@code mm}. Lengths are
     * rounded up to pages. Takes the mmap lock for write; may sleep.
     *
     * @return the new address of the mapping, or a negated errno: {@code -EINVAL} for an
     *         unknown flag, an unaligned {@code addr} or {@code new_addr}, a zero
     *         {@code new_len}, {@code FIXED} or {@code DONTUNMAP} without {@code MAYMOVE},
     *         {@code DONTUNMAP} with a resize or on a {@code VM_DONTEXPAND}/{@code VM_PFNMAP}
     *         mapping, overlapping source and destination, a destination outside the user
     *         address space or a zero {@code old_len};
     *         {@code -EFAULT} when no VMA contains {@code addr}, the range crosses the VMA's
     *         end, or a {@code VM_DONTEXPAND}/{@code VM_PFNMAP} mapping would grow;
     *         {@code -ENOMEM} when the mapping cannot grow in place without
     *         {@code MAYMOVE}, or no free range is large enough.
     */
    public static long mremap(MmStruct mm, long addr, long oldLen, long newLen, int flags, long newAddr) {
        boolean impliesNewAddr = (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0;
        if ((flags & ~KNOWN_FLAGS) != 0 || !Pte.isPageAligned(addr) || newLen <= 0
                || Long.compareUnsigned(newLen, Pte.TASK_SIZE) > 0) {
            return -Errno.EINVAL;
        }
        if (impliesNewAddr && (!Pte.isPageAligned(newAddr) || (flags & MREMAP_MAYMOVE) == 0
                || ((flags & MREMAP_DONTUNMAP) != 0 && oldLen != newLen))) {
            return -Errno.EINVAL;
        }
        if (oldLen < 0 || Long.compareUnsigned(oldLen, Pte.TASK_SIZE) > 0) {
            return -Errno.EFAULT;
        }
        long oldSize = Pte.pageAlign(oldLen);
        long newSize = Pte.pageAlign(newLen);
        mm.mmapWriteLock();
        try {
            Vma vma = mm.vmaLookup(addr);
            if (vma == null) {
                return -Errno.EFAULT;
            }
            if (vma.hasAny(VmFlags.VM_HUGETLB)) {
                return -Errno.EINVAL; // mremap of hugetlb mappings is not modelled (docs: hugetlbfs)
            }
            long srcEnd = Math.min(addr + oldSize, vma.vmEnd());
            if (hasHugeEntry(mm, addr, srcEnd)) {
                mm.kernel().mark(HUGE_SPLIT);
                HugeMemory.splitHugePmdRange(mm, addr, srcEnd);
            }
            return impliesNewAddr ? mremapTo(mm, addr, oldSize, newSize, flags, newAddr)
                    : mremapAt(mm, vma, addr, oldSize, newSize, flags);
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** {@code mremap_to}: a move to {@code new_addr} (FIXED) or to a free range (DONTUNMAP alone). */
    private static long mremapTo(MmStruct mm, long addr, long oldSize, long newSize, int flags, long newAddr) {
        if (newSize > Pte.TASK_SIZE || Long.compareUnsigned(newAddr, Pte.TASK_SIZE - newSize) > 0) {
            return -Errno.EINVAL;
        }
        boolean fixed = (flags & MREMAP_FIXED) != 0;
        if (fixed && addr < newAddr + newSize && newAddr < addr + oldSize) {
            return -Errno.EINVAL;
        }
        if (fixed) {
            if (newAddr < VmaTree.MMAP_MIN_ADDR) {
                return -Errno.EPERM;
            }
            Mmap.unmapLocked(mm, newAddr, newSize);
            if (mm.vmaLookup(addr) == null) {
                return -Errno.EFAULT;
            }
        }
        long len = oldSize;
        if (newSize < oldSize) {
            Mmap.unmapLocked(mm, addr + newSize, oldSize - newSize);
            len = newSize;
        }
        Vma vma = mm.vmaLookup(addr);
        if (vma == null) {
            return -Errno.EFAULT;
        }
        int err = remapIsValid(vma, addr, len, newSize, flags);
        if (err != 0) {
            return err;
        }
        long dest = fixed ? newAddr : mm.vmas("mremap").findFreeRange(newSize, 0);
        if (dest < 0) {
            return -Errno.ENOMEM;
        }
        return moveVma(mm, vma, addr, len, dest, newSize, flags);
    }

    /** {@code mremap_at}: same size, shrink in place, or grow in place (moving when that fails and MAYMOVE allows). */
    private static long mremapAt(MmStruct mm, Vma vma, long addr, long oldSize, long newSize, int flags) {
        if (newSize == oldSize) {
            return addr;
        }
        if (newSize < oldSize) {
            Mmap.unmapLocked(mm, addr + newSize, oldSize - newSize);
            return addr;
        }
        int err = remapIsValid(vma, addr, oldSize, newSize, flags);
        if (err != 0) {
            return err;
        }
        VmaTree vmas = mm.vmas("mremap");
        long end = vma.vmEnd();
        long grownEnd = end + (newSize - oldSize);
        if (addr + oldSize == end && grownEnd <= Pte.TASK_SIZE && vmas.intersecting(end, grownEnd).isEmpty()) {
            Vma extension = new Vma(end, grownEnd, vma.flags(), vma.file(), vma.linearPageIndex(end));
            extension.inheritFile(vma);
            vmas.insert(extension);
            vmas.mergeAround(extension);
            return addr;
        }
        if ((flags & MREMAP_MAYMOVE) == 0) {
            return -Errno.ENOMEM;
        }
        long dest = vmas.findFreeRange(newSize, 0);
        if (dest < 0) {
            return -Errno.ENOMEM;
        }
        return moveVma(mm, vma, addr, oldSize, dest, newSize, flags);
    }

    /** {@code remap_is_valid}: 0, or why [addr, addr + len) of {@code vma} cannot become {@code newSize} bytes. */
    private static int remapIsValid(Vma vma, long addr, long len, long newSize, int flags) {
        if (len == 0) {
            return -Errno.EINVAL;
        }
        boolean noExpand = vma.hasAny(VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP);
        if ((flags & MREMAP_DONTUNMAP) != 0 && noExpand) {
            return -Errno.EINVAL;
        }
        if (len > vma.vmEnd() - addr) {
            return -Errno.EFAULT;
        }
        if (newSize != len && noExpand) {
            return -Errno.EFAULT;
        }
        return 0;
    }

    /**
     * {@code move_vma}: links the destination VMA, moves the entries of [oldAddr, oldAddr +
     * len) to [newAddr, newAddr + len) and unmaps the source unless DONTUNMAP. The destination
     * range is free. Mmap write lock held.
     */
    private static long moveVma(MmStruct mm, Vma vma, long oldAddr, long len, long newAddr, long newSize, int flags) {
        mm.mmapAssertWriteLocked();
        VmaTree vmas = mm.vmas("mremap");
        // copy_vma: the new VMA's anon_vma_clone, under the rwsem for write.
        Rmap.vmaComplete(Rmap.vmaPrepare(mm, vma, null));
        Vma moved = new Vma(newAddr, newAddr + newSize, vma.flags(), vma.file(), vma.linearPageIndex(oldAddr));
        moved.inheritFile(vma);
        vmas.insert(moved);
        movePageTables(mm, vma, oldAddr, newAddr, len);
        vmas.mergeAround(moved);
        if ((flags & MREMAP_DONTUNMAP) == 0) {
            Mmap.unmapLocked(mm, oldAddr, len);
        }
        return newAddr;
    }

    /**
     * {@code move_page_tables}: every non-none entry of [oldAddr, oldAddr + len) moves to the
     * same offset from {@code newAddr}, inside one {@code MMU_NOTIFY_UNMAP} invalidation of
     * the source range. Mmap write lock held.
     */
    static void movePageTables(MmStruct mm, Vma vma, long oldAddr, long newAddr, long len) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, oldAddr, oldAddr + len);
        range.invalidateRangeStart();
        // take_rmap_locks: the destination is a new VMA (need_rmap_locks false), but a whole
        // PMD table moved at once (move_pgt_entry of NORMAL_PMD) takes them always.
        RwSemaphore anonVma = movesWholePmdTable(oldAddr, newAddr, len) ? Rmap.vmaPrepare(mm, vma, null) : null;
        PhysMem phys = PhysMem.of(mm.kernel());
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("move_page_tables");
            PteList entries = PteList.collect(pt, oldAddr, oldAddr + len);
            for (int i = 0; i < entries.size(); i++) {
                long from = entries.addr(i);
                long to = newAddr + (from - oldAddr);
                long pte = pt.getAndClear(from);
                pt.set(to, pte);
                moveRmap(mm, phys, pt, pte, from, to);
            }
            if (entries.size() > 0) {
                mm.kernel().mark(MOVED);
            }
        } finally {
            ptl.unlock();
            Rmap.vmaComplete(anonVma);
        }
        range.invalidateRangeEnd();
    }

    /**
     * Whether {@code move_page_tables} would move a whole PMD table ({@code move_normal_pmd}):
     * source and destination equally aligned within a PMD and a full aligned PMD of the
     * source inside the range.
     */
    static boolean movesWholePmdTable(long oldAddr, long newAddr, long len) {
        long mask = Pte.PMD_SIZE - 1;
        if (((oldAddr ^ newAddr) & mask) != 0) {
            return false;
        }
        long firstFull = (oldAddr + mask) & ~mask;
        return firstFull + Pte.PMD_SIZE <= oldAddr + len;
    }

    /**
     * A moved entry naming a device page (device-private, or a present device-coherent page):
     * its device rmap place, and a migration entry's end-of-run record, follow it.
     */
    private static void moveRmap(MmStruct mm, PhysMem phys, PageTable pt, long pte, long from, long to) {
        boolean present = Pte.isPresent(pte) && !Pte.isZero(pte) && !Pte.isSpecial(pte);
        if (!Pte.isDevicePrivate(pte) && !Pte.isMigration(pte) && !present) {
            return;
        }
        Page page = phys.pfnToPage(Pte.pfn(pte));
        if (page == null) {
            return;
        }
        if (present) {
            if (page.pgmap() != null) {
                page.pgmap().rmapRemove(page, pt, from);
                page.pgmap().rmapAdd(page, mm, pt, to);
            }
            return;
        }
        if (page.isDevicePrivate()) {
            page.pgmap().rmapRemove(page, pt, from);
            page.pgmap().rmapAdd(page, mm, pt, to);
            if (Pte.isDevicePrivate(pte)) {
                mm.kernel().mark(MOVED_DEVICE_PRIVATE);
            }
        }
        if (Pte.isMigration(pte)) {
            PageStateChecks checks = PageStateChecks.recording(mm.kernel());
            if (checks != null) {
                checks.migrationEntryInstalled(mm, pt, to, Pte.pfn(pte), mm.kernel().site());
            }
        }
    }

    /**
     * True when a huge (PMD-level) entry maps part of [start, end), which this mremap splits
     * first. Mmap lock held.
     */
    static boolean hasHugeEntry(MmStruct mm, long start, long end) {
        if (end <= start) {
            return false;
        }
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            return !mm.pgd("mremap").forEach(start, end, (a, pte) -> !Pte.isHuge(pte));
        } finally {
            ptl.unlock();
        }
    }
}
