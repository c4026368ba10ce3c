package hmm4j.kernel.mm;

import hmm4j.kernel.mm.migrate.DevPagemap;
import hmm4j.kernel.mm.migrate.DevPagemapOps;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;

/**
 * The page-fault handler, {@code handle_mm_fault} (mm/memory.c), for base pages:
 * anonymous read faults map the shared zero page, anonymous write faults allocate a page,
 * shared and file mappings go through the page cache, write faults on read-only entries
 * copy on write (or reuse an exclusive anonymous page), and swap entries are swapped in.
 *
 * <p>Locking: the caller holds the mmap lock (read is enough; asserted) and an
 * {@code mm_users} pin (checked by the pin rule when the page table is reached). The
 * page-table lock is taken here; it is dropped around the copy of a COW, which is
 * bracketed by an {@code MMU_NOTIFY_CLEAR} invalidation of that page (notifier callbacks
 * may sleep, so never under the spinlock) and re-validated under the lock afterwards.
 *
 * <p>A write fault on a read-only special entry (VM_PFNMAP/VM_MIXEDMAP memory without a
 * {@link Page}) of a private mapping copies into a zero-filled page: the model keeps no
 * contents for memory without a page. A PROT_NONE (NUMA hinting) entry in an accessible VMA
 * gets its protection back, as {@code do_numa_page} does.
 *
 * <p>The non-present entries of device memory and migration ({@code do_swap_page}):
 * <ul>
 *   <li>a migration entry: wait until the migration has rewritten it
 *       ({@link MigrationEntryWait}), then answer 0 so that the access is retried;</li>
 *   <li>a device-private entry: lock and reference the device page, drop the page-table lock
 *       and call its pgmap's {@link DevPagemapOps#migrateToRam migrate_to_ram} with a
 *       {@link VmFault}, then unlock and release the page; the driver's answer is returned.
 *       If the page lock is taken (the page is being migrated or faulted by someone else),
 *       wait until it is released and answer 0;</li>
 *   <li>a device-exclusive entry ({@code remove_device_exclusive_entry}): reference and lock
 *       the page, then inside an {@code MMU_NOTIFY_CLEAR} invalidation without owner (the
 *       event the kernel sends since v6.15; {@code MMU_NOTIFY_EXCLUSIVE} now only announces
 *       the conversion to device-exclusive) put the present entry back (writable and dirty if
 *       the VMA is writable) if it is still the same, so the device that had exclusive access
 *       is told it lost it, even by a driver that filters out EXCLUSIVE events.</li>
 * </ul>
 *
 * <p>Huge pages: a fault at a none PMD of a VMA that may have a THP, and a fault on a PMD
 * leaf, are handled by {@link HugeMemory}; a copy-on-write of a shared leaf splits it and
 * continues here at PTE level.
 *
 * <p>Differences from the kernel: no file THP, no fault-around, no userfaultfd; when a
 * device-private page is locked the kernel returns at once and the CPU faults again, where the
 * model sleeps until the lock is released ({@code folio_wait_locked}, no reference held): a
 * spinning fault is a livelock in the controlled runtime, and the model's bounded user-access
 * retries would turn it into a spurious {@code -EFAULT}.
 */
public final class Fault {
    /** Coverage mark: a CPU fault on a device-private entry found the page locked by a migration and waited. */
    public static final Mark DEVICE_PRIVATE_LOCKED = Mark.of("fault.device-private.locked",
            "A CPU fault on a device-private entry found the page locked by a migration and waited");
    /** Coverage mark: a CPU fault found a migration entry and waited for the migration to finish. */
    public static final Mark MIGRATION_ENTRY_WAIT = Mark.of("fault.migration-entry.wait",
            "A CPU fault found a migration entry and waited for the migration to finish");
    /** Coverage mark: a CPU fault took a device-exclusive entry back from the device. */
    public static final Mark EXCLUSIVE_REVOKED = Mark.of("fault.device-exclusive.revoked",
            "A CPU fault took a device-exclusive entry back from the device");

    /** {@code FAULT_FLAG_WRITE}. */
    public static final int FAULT_FLAG_WRITE = 0x01;
    /** {@code FAULT_FLAG_REMOTE}: the fault is on behalf of another mm user (hmm, gup). */
    public static final int FAULT_FLAG_REMOTE = 0x80;
    /** {@code VM_FAULT_OOM}. */
    public static final int VM_FAULT_OOM = 0x000001;
    /** {@code VM_FAULT_SIGBUS}. */
    public static final int VM_FAULT_SIGBUS = 0x000002;
    /** {@code VM_FAULT_SIGSEGV}. */
    public static final int VM_FAULT_SIGSEGV = 0x000040;
    /** {@code VM_FAULT_ERROR}: any of the error bits. */
    public static final int VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

    private Fault() {
    }

    /**
     * {@code struct vm_fault}, as handed to {@link DevPagemapOps#migrateToRam}: the faulting
     * mm and VMA, the page-aligned address, the {@code FAULT_FLAG_*} flags, the device page
     * ({@code vmf->page}, locked and referenced by the fault handler) and the entry that
     * faulted ({@code vmf->orig_pte}).
     */
    public record VmFault(MmStruct mm, Vma vma, long address, int flags, Page page, long origPte) {
    }

    /**
     * {@code handle_mm_fault}: resolves a fault at {@code addr} in {@code vma}.
     *
     * @return 0 (the caller retries the access) or a {@code VM_FAULT_*} error
     */
    public static int handleMmFault(MmStruct mm, Vma vma, long addr, int flags) {
        mm.mmapAssertLocked();
        boolean write = (flags & FAULT_FLAG_WRITE) != 0;
        if (!vma.contains(addr) || !vma.hasAny(write ? VmFlags.VM_WRITE : VmFlags.VM_READ)) {
            return VM_FAULT_SIGSEGV;
        }
        if (vma.hasAny(VmFlags.VM_HUGETLB)) {
            return Hugetlb.hugetlbFault(mm, vma, addr, write);
        }
        long page = addr & Pte.PAGE_MASK;
        PageTable pt = mm.pgd("handle_mm_fault");
        SpinLock ptl = mm.pageTableLock();
        PhysMem phys = PhysMem.of(mm.kernel());
        ptl.lock();
        long pte = pt.get(page);
        if (Pte.isNone(pte)) {
            if (pt.isPmdNone(page) && HugeMemory.of(mm.kernel()).vmaAllowsPmd(vma, page)
                    && HugeMemory.doHugePmdAnonymousPage(mm, phys, pt, vma, page, write) == 0) {
                ptl.unlock();
                return 0;
            }
            int ret = doNoPage(phys, pt, vma, page, write);
            ptl.unlock();
            return ret;
        }
        if (Pte.isSwap(pte)) {
            int ret = doSwapPage(phys, pt, page, pte, write);
            ptl.unlock();
            return ret;
        }
        if (Pte.isMigration(pte)) {
            ptl.unlock();
            mm.kernel().mark(MIGRATION_ENTRY_WAIT);
            MigrationEntryWait.migrationEntryWait(mm, page);
            return 0;
        }
        if (Pte.isDevicePrivate(pte)) {
            return doDevicePrivate(mm, vma, phys, ptl, page, pte, flags);
        }
        if (Pte.isDeviceExclusive(pte)) {
            ptl.unlock();
            return removeDeviceExclusiveEntry(mm, vma, phys, pt, ptl, page, pte);
        }
        if (!Pte.isPresent(pte)) {
            ptl.unlock();
            return VM_FAULT_SIGBUS;
        }
        if (Pte.isHuge(pte)) {
            if (HugeMemory.hugePmdFault(mm, phys, pt, ptl, page, write) == 0) {
                return 0;
            }
            // VM_FAULT_FALLBACK: the PMD is split; handle the fault at PTE level.
            return handleMmFault(mm, vma, addr, flags);
        }
        if (Pte.isProtNone(pte)) {
            // do_numa_page: a PROT_NONE hinting entry in an accessible VMA gets its
            // protection back (not writable: a write faults again and takes the write path).
            pt.set(page, Pte.mkYoung(Pte.clearProtNone(pte)));
            ptl.unlock();
            return 0;
        }
        if (!write || Pte.isWrite(pte)) {
            pt.set(page, write ? Pte.mkDirty(Pte.mkYoung(pte)) : Pte.mkYoung(pte));
            ptl.unlock();
            return 0;
        }
        if (vma.isShared()) {
            pt.set(page, Pte.mkDirty(Pte.mkYoung(Pte.mkWrite(pte))));
            ptl.unlock();
            return 0;
        }
        if (!Pte.isZero(pte) && !Pte.isSpecial(pte)) {
            Page old = phys.pfnToPage(Pte.pfn(pte));
            if (old.isAnon() && old.mapcount() == 1 && old.refcount() == 1) {
                pt.set(page, Pte.mkDirty(Pte.mkYoung(Pte.mkWrite(pte))));
                ptl.unlock();
                return 0;
            }
        }
        ptl.unlock();
        return wpPageCopy(mm, phys, pt, ptl, page, pte);
    }

    /**
     * The device-private branch of {@code do_swap_page}, entered with the page-table lock
     * held and {@code pte} read under it; drops the lock.
     */
    private static int doDevicePrivate(MmStruct mm, Vma vma, PhysMem phys, SpinLock ptl, long page, long pte,
                                       int flags) {
        Page device = phys.pfnToPage(Pte.pfn(pte));
        if (!device.trylock()) {
            ptl.unlock();
            mm.kernel().mark(DEVICE_PRIVATE_LOCKED);
            device.waitLocked();
            return 0;
        }
        device.get();
        ptl.unlock();
        DevPagemap pgmap = device.pgmap();
        int ret;
        try {
            ret = pgmap.ops().migrateToRam(new VmFault(mm, vma, page, flags, device, pte));
        } finally {
            device.unlock();
            device.put();
        }
        return ret;
    }

    /** {@code remove_device_exclusive_entry}, entered without the page-table lock. */
    private static int removeDeviceExclusiveEntry(MmStruct mm, Vma vma, PhysMem phys, PageTable pt, SpinLock ptl,
                                                  long page, long origPte) {
        Page p = phys.pfnToPage(Pte.pfn(origPte));
        if (!p.tryGet()) {
            return 0;
        }
        p.lock();
        Rmap.folioLockHeld(mm.kernel());
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, page,
                page + Pte.PAGE_SIZE, null);
        range.invalidateRangeStart();
        ptl.lock();
        if (pt.get(page) == origPte) {
            mm.kernel().mark(EXCLUSIVE_REVOKED);
            pt.set(page, restoreExclusivePte(vma, origPte));
        }
        ptl.unlock();
        Rmap.folioLockReleased(mm.kernel());
        p.unlock();
        p.put();
        range.invalidateRangeEnd();
        return 0;
    }

    /**
     * {@code restore_exclusive_pte}: the present entry that a device-exclusive entry replaced,
     * writable and dirty if the exclusive entry was writable and the VMA is; not young. The
     * page keeps the mapping's reference and mapcount.
     */
    static long restoreExclusivePte(Vma vma, long exclusive) {
        long pte = Pte.mkPresent(Pte.pfn(exclusive), false);
        if (Pte.isWrite(exclusive) && vma.hasAny(VmFlags.VM_WRITE)) {
            pte = Pte.mkDirty(Pte.mkWrite(pte));
        }
        return pte;
    }

    private static int doNoPage(PhysMem phys, PageTable pt, Vma vma, long page, boolean write) {
        if (vma.isAnonymous()) {
            if (!write) {
                pt.set(page, Pte.mkZero());
                return 0;
            }
            Page p = phys.allocPage();
            if (p == null) {
                return VM_FAULT_OOM;
            }
            p.setFlag(Page.PG_ANON);
            p.incMapcount();
            pt.set(page, Pte.mkDirty(Pte.mkYoung(Pte.mkPresent(p.pfn(), true))));
            return 0;
        }
        Page cached = PageCache.of(phys.kernel()).findOrCreatePage(vma.file(), vma.linearPageIndex(page));
        if (cached == null) {
            return VM_FAULT_SIGBUS;
        }
        if (!vma.isShared() && write) {
            Page copy = phys.allocPage();
            if (copy == null) {
                cached.put();
                return VM_FAULT_OOM;
            }
            copy.copyFrom(cached);
            cached.put();
            copy.setFlag(Page.PG_ANON);
            copy.incMapcount();
            pt.set(page, Pte.mkDirty(Pte.mkYoung(Pte.mkPresent(copy.pfn(), true))));
            return 0;
        }
        cached.incMapcount();
        boolean writable = vma.isShared() && vma.hasAny(VmFlags.VM_WRITE);
        long entry = Pte.mkYoung(Pte.mkPresent(cached.pfn(), writable));
        pt.set(page, write ? Pte.mkDirty(entry) : entry);
        return 0;
    }

    private static int doSwapPage(PhysMem phys, PageTable pt, long page, long pte, boolean write) {
        Page p = phys.allocPage();
        if (p == null) {
            return VM_FAULT_OOM;
        }
        SwapSpace swap = SwapSpace.of(phys.kernel());
        swap.read(Pte.swapOffset(pte), p);
        swap.free(Pte.swapOffset(pte));
        p.setFlag(Page.PG_ANON);
        p.setFlag(Page.PG_SWAPBACKED);
        p.incMapcount();
        long entry = Pte.mkYoung(Pte.mkPresent(p.pfn(), write));
        pt.set(page, write ? Pte.mkDirty(entry) : entry);
        return 0;
    }

    /** {@code wp_page_copy}: copy on write of a read-only private entry, page-table lock not held. */
    private static int wpPageCopy(MmStruct mm, PhysMem phys, PageTable pt, SpinLock ptl, long page, long oldPte) {
        Page copy = phys.allocPage();
        if (copy == null) {
            return VM_FAULT_OOM;
        }
        if (!Pte.isZero(oldPte) && !Pte.isSpecial(oldPte)) {
            copy.copyFrom(phys.pfnToPage(Pte.pfn(oldPte)));
        }
        copy.setFlag(Page.PG_ANON);
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, page,
                page + Pte.PAGE_SIZE);
        range.invalidateRangeStart();
        ptl.lock();
        if (pt.get(page) != oldPte) {
            ptl.unlock();
            range.invalidateRangeEnd();
            copy.put();
            return 0;
        }
        copy.incMapcount();
        pt.set(page, Pte.mkDirty(Pte.mkYoung(Pte.mkPresent(copy.pfn(), true))));
        if (!Pte.isZero(oldPte) && !Pte.isSpecial(oldPte)) {
            Page old = phys.pfnToPage(Pte.pfn(oldPte));
            if (old.pgmap() != null) {
                old.pgmap().rmapRemove(old, pt, page);
            }
            old.decMapcount();
            old.put();
        }
        ptl.unlock();
        range.invalidateRangeEnd();
        return 0;
    }
}
