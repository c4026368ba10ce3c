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
 * copy on write (or reuse an exclusive anonymous page, never a KSM page), and swap entries are swapped in.
 *
 * <p>Locking: the caller holds the mmap lock (read is enough) or, with
 * {@link #FAULT_FLAG_VMA_LOCK}, the VMA's per-VMA lock ({@link VmaLock}; asserted either way), and an
 * {@code mm_users} pin (checked by the pin rule when the page table is reached). The
 * page-table lock is taken here; it is dropped around the copy of a COW, which is
 * bracketed by an {@code MMU_NOTIFY_CLEAR} invalidation of that page (notifier callbacks
 * may sleep, so never under the spinlock) and re-validated under the lock afterwards.
 *
 * <p>A write fault on a read-only special entry (VM_PFNMAP/VM_MIXEDMAP memory without a
 * {@link Page}) of a private mapping copies into a zero-filled page: the model keeps no
 * contents for memory without a page. A PROT_NONE (NUMA hinting) entry in an accessible VMA
 * gets its protection back, as {@code do_numa_page} does, writable where
 * {@code can_change_pte_writable} allows ({@link #doNumaPage}).
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
 * <p>Retry ({@code FAULT_FLAG_ALLOW_RETRY}, {@code VM_FAULT_RETRY}): a fault that must wait for
 * a locked page ({@link #folioLockOrRetry}: the device-exclusive restore) drops its fault lock,
 * waits, and answers {@code VM_FAULT_RETRY} when the caller allows a first retry; a fault under
 * a per-VMA lock that meets a device-private entry answers {@code VM_FAULT_RETRY} at once, having
 * dropped the VMA lock ({@code migrate_to_ram} needs {@code mmap_lock}). On {@code VM_FAULT_RETRY}
 * the caller holds no fault lock. Callers that do not pass ALLOW_RETRY ({@code hmm_range_fault},
 * GUP) never see it.
 *
 * <p>Huge pages: a fault at a none PMD of a VMA that may have a THP, and a fault on a PMD
 * leaf, are handled by {@link HugeMemory}; a copy-on-write of a shared leaf splits it and
 * continues here at PTE level.
 *
 * <p>A locked device-private page: the kernel's {@code do_swap_page} returned at once after a
 * failed {@code trylock_page} until commit b570f37a2ce4 (v7.0, in the 6.15+ stable trees), and
 * the CPU, or {@code hmm_range_fault}, faulted again, which could starve the lock holder; it
 * now waits for the unlock without a reference ({@code migration_entry_wait_on_locked}) and
 * answers 0, and so does the model.
 *
 * <p>Differences from the kernel: no file THP, no fault-around, no userfaultfd; the wait on a
 * locked device-private page drops the page-table lock before it sleeps (the kernel queues
 * itself first, so a free of the page cannot happen in between; the model's page objects are
 * never freed, and the wait ends on any unlock).
 */
public final class Fault {
    /** Coverage mark: a CPU fault on a device-private entry found the page locked by a migration and waited. */
    public static final Mark DEVICE_PRIVATE_LOCKED = Mark.of("fault.device-private.locked",
            "A CPU fault on a device-private entry found the page locked by a migration and waited for the unlock (migration_entry_wait_on_locked)");
    /** Coverage mark: a CPU fault found a migration entry and waited for the migration to finish. */
    public static final Mark MIGRATION_ENTRY_WAIT = Mark.of("fault.migration-entry.wait",
            "A CPU fault found a migration entry and waited for the migration to finish");
    /** Coverage mark: a fault under a per-VMA lock met a device-private entry and asked for mmap_lock. */
    public static final Mark DEVICE_PRIVATE_VMA_LOCK_RETRY = Mark.of("fault.device-private.vma-lock-retry",
            "A fault under a per-VMA lock met a device-private entry: migrate_to_ram needs mmap_lock, VM_FAULT_RETRY");
    /** Coverage mark: folio_lock_or_retry found the page locked, dropped the fault lock and waited. */
    public static final Mark LOCK_OR_RETRY_DROPPED = Mark.of("fault.folio-lock-or-retry.dropped",
            "A fault found its page locked, dropped its fault lock, waited for the unlock and answered VM_FAULT_RETRY");
    /** Coverage mark: a CPU fault took a device-exclusive entry back from the device. */
    public static final Mark EXCLUSIVE_REVOKED = Mark.of("fault.device-exclusive.revoked",
            "A CPU fault took a device-exclusive entry back from the device");

    /** {@code FAULT_FLAG_WRITE}. */
    public static final int FAULT_FLAG_WRITE = 0x01;
    /** {@code FAULT_FLAG_ALLOW_RETRY}: the handler may drop the fault lock and answer {@link #VM_FAULT_RETRY}. */
    public static final int FAULT_FLAG_ALLOW_RETRY = 0x04;
    /** {@code FAULT_FLAG_RETRY_NOWAIT}: answer {@link #VM_FAULT_RETRY} without dropping the lock or waiting. */
    public static final int FAULT_FLAG_RETRY_NOWAIT = 0x08;
    /** {@code FAULT_FLAG_KILLABLE}. */
    public static final int FAULT_FLAG_KILLABLE = 0x10;
    /** {@code FAULT_FLAG_TRIED}: this fault was retried once already. */
    public static final int FAULT_FLAG_TRIED = 0x20;
    /** {@code FAULT_FLAG_USER}: the fault is from user space. */
    public static final int FAULT_FLAG_USER = 0x40;
    /** {@code FAULT_FLAG_REMOTE}: the fault is on behalf of another mm user (hmm, gup). */
    public static final int FAULT_FLAG_REMOTE = 0x80;
    /** {@code FAULT_FLAG_INTERRUPTIBLE}. */
    public static final int FAULT_FLAG_INTERRUPTIBLE = 0x200;
    /**
     * {@code FAULT_FLAG_UNSHARE}: break COW sharing of a read-only anonymous page without
     * asking for write access (a read fault that copies a KSM or shared page; the copy stays
     * read-only). Only for private mappings, never with {@link #FAULT_FLAG_WRITE}.
     */
    public static final int FAULT_FLAG_UNSHARE = 0x400;
    /** {@code FAULT_FLAG_VMA_LOCK}: the fault holds the VMA's per-VMA lock, not {@code mmap_lock}. */
    public static final int FAULT_FLAG_VMA_LOCK = 0x1000;
    /** {@code FAULT_FLAG_DEFAULT}: what the arch fault handlers start with. */
    public static final int FAULT_FLAG_DEFAULT = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_INTERRUPTIBLE;
    /** {@code VM_FAULT_OOM}. */
    public static final int VM_FAULT_OOM = 0x000001;
    /** {@code VM_FAULT_SIGBUS}. */
    public static final int VM_FAULT_SIGBUS = 0x000002;
    /** {@code VM_FAULT_SIGSEGV}. */
    public static final int VM_FAULT_SIGSEGV = 0x000040;
    /** {@code VM_FAULT_RETRY}: the fault lock was dropped (unless RETRY_NOWAIT); fault again. */
    public static final int VM_FAULT_RETRY = 0x000400;
    /** {@code VM_FAULT_COMPLETED}: the fault was handled and the fault lock dropped by the handler. */
    public static final int VM_FAULT_COMPLETED = 0x004000;
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
        assertFaultLocked(mm, vma, flags);
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
            // check_stable_address_space (do_anonymous_page, the huge one, finish_fault of a
            // private mapping): nothing is populated once the OOM reaper has been here.
            int unstable = vma.isShared() ? 0 : OomKill.checkStableAddressSpace(mm);
            if (unstable != 0) {
                ptl.unlock();
                return unstable;
            }
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
            if ((flags & FAULT_FLAG_VMA_LOCK) != 0) {
                // migrate_to_ram runs only under mmap_lock: give the VMA lock back and let
                // the arch handler retry under mmap_lock.
                ptl.unlock();
                mm.kernel().mark(DEVICE_PRIVATE_VMA_LOCK_RETRY);
                VmaLock.vmaEndRead(mm, vma);
                return VM_FAULT_RETRY;
            }
            return doDevicePrivate(mm, vma, phys, ptl, page, pte, flags);
        }
        if (Pte.isDeviceExclusive(pte)) {
            ptl.unlock();
            return removeDeviceExclusiveEntry(mm, vma, phys, pt, ptl, page, pte, flags);
        }
        if (!Pte.isPresent(pte)) {
            ptl.unlock();
            return VM_FAULT_SIGBUS;
        }
        if (Pte.isHuge(pte)) {
            if (HugeMemory.hugePmdFault(mm, phys, pt, ptl, vma, page, write) == 0) {
                return 0;
            }
            // VM_FAULT_FALLBACK: the PMD is split; handle the fault at PTE level.
            return handleMmFault(mm, vma, addr, flags);
        }
        if (Pte.isProtNone(pte)) {
            // handle_pte_fault: a PROT_NONE entry in an accessible VMA (the access was checked
            // above) is a NUMA hinting entry, whatever the kind of fault.
            doNumaPage(mm, phys, pt, vma, page, pte);
            ptl.unlock();
            return 0;
        }
        if (write && !Pte.isWrite(pte) && vma.hasAny(VmFlags.VM_UFFD_WP) && Userfaultfd.pteWp(mm, page)) {
            // do_wp_page on a uffd-wp entry: handle_userfault (UFFD_FEATURE_SIGBUS, see Userfaultfd).
            ptl.unlock();
            return VM_FAULT_SIGBUS;
        }
        boolean unshare = (flags & FAULT_FLAG_UNSHARE) != 0 && !write && !vma.isShared();
        if (unshare && !Pte.isWrite(pte) && !Pte.isZero(pte) && !Pte.isSpecial(pte)) {
            // do_wp_page for FAULT_FLAG_UNSHARE: an exclusive anonymous page (or one that is
            // not anonymous) needs nothing; a KSM or shared anonymous page is copied.
            Page old = phys.pfnToPage(Pte.pfn(pte));
            if (old != null && old.isAnon() && (old.testFlag(Ksm.PG_KSM) || old.mapcount() != 1
                    || old.refcount() != 1)) {
                ptl.unlock();
                return wpPageCopy(mm, phys, pt, ptl, page, pte, true);
            }
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
            if (Mprotect.pageAnonExclusive(old)) {
                pt.set(page, Pte.mkDirty(Pte.mkYoung(Pte.mkWrite(pte))));
                ptl.unlock();
                return 0;
            }
        }
        ptl.unlock();
        return wpPageCopy(mm, phys, pt, ptl, page, pte, false);
    }

    /**
     * {@code do_numa_page} ({@code numa_rebuild_single_mapping}) for the hinting entry
     * {@code pte} of {@code page}, page-table lock held (kept): the entry gets the VMA's
     * protection back and is made young, and writable when the VMA's own protection is
     * (a shared mapping with {@code VM_WRITE}: the model has no write notification) or, where
     * {@code vma_wants_manual_pte_write_upgrade} (a private VMA with {@code VM_WRITE}),
     * {@link Mprotect#canChangePteWritable} allows it, whether the fault was a read or a write.
     * A write fault on an entry restored read-only faults again and takes the write path. No
     * invalidation (the entry only gains access), no migration (one node).
     */
    static void doNumaPage(MmStruct mm, PhysMem phys, PageTable pt, Vma vma, long page, long pte) {
        long restored = Pte.mkYoung(Pte.clearProtNone(pte));
        // A shared VMA: pte_modify with its vm_page_prot, writable with VM_WRITE (no write
        // notification to wait for); a private one: vma_wants_manual_pte_write_upgrade.
        boolean writable = vma.hasAny(VmFlags.VM_WRITE)
                && (vma.isShared() || Mprotect.canChangePteWritable(mm, phys, vma, page, restored));
        pt.set(page, writable ? Pte.mkWrite(restored) : restored);
    }

    /**
     * The device-private branch of {@code do_swap_page}, entered with the page-table lock
     * held and {@code pte} read under it; drops the lock.
     */
    private static int doDevicePrivate(MmStruct mm, Vma vma, PhysMem phys, SpinLock ptl, long page, long pte,
                                       int flags) {
        // A device-private PMD entry (do_huge_pmd_device_private) hands the folio's head page to
        // migrate_to_ram, which tells the level by the HUGE bit of vmf.origPte (vmf->pte is NULL).
        Page device = phys.pfnToPage(Pte.isHuge(pte) ? Pte.pfn(pte) & -(long) HugeMemory.HPAGE_PMD_NR : Pte.pfn(pte));
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

    /**
     * {@code assert_fault_locked}: the caller holds {@code vma}'s per-VMA lock
     * ({@link #FAULT_FLAG_VMA_LOCK}) or the mmap lock.
     */
    static void assertFaultLocked(MmStruct mm, Vma vma, int flags) {
        if ((flags & FAULT_FLAG_VMA_LOCK) == 0 || !VmaLock.heldByCurrent(mm, vma)) {
            mm.mmapAssertLocked();
        }
    }

    /** {@code release_fault_lock}: drops the per-VMA lock or the mmap read lock the fault holds. */
    static void releaseFaultLock(MmStruct mm, Vma vma, int flags) {
        if ((flags & FAULT_FLAG_VMA_LOCK) != 0) {
            VmaLock.vmaEndRead(mm, vma);
        } else {
            mm.mmapReadUnlock();
        }
    }

    /**
     * {@code folio_lock_or_retry}: locks {@code page} and answers 0; or, when it is locked, the
     * fault allows a first retry ({@link #FAULT_FLAG_ALLOW_RETRY} without {@link #FAULT_FLAG_TRIED})
     * and is not {@link #FAULT_FLAG_RETRY_NOWAIT}, drops the fault lock, waits for the unlock and
     * answers {@link #VM_FAULT_RETRY} (with RETRY_NOWAIT: answers it at once, lock kept); a fault
     * that may not retry sleeps for the lock holding its fault lock. May sleep.
     */
    static int folioLockOrRetry(MmStruct mm, Vma vma, Page page, int flags) {
        if (page.trylock()) {
            return 0;
        }
        if ((flags & FAULT_FLAG_ALLOW_RETRY) != 0 && (flags & FAULT_FLAG_TRIED) == 0) {
            if ((flags & FAULT_FLAG_RETRY_NOWAIT) != 0) {
                return VM_FAULT_RETRY;
            }
            releaseFaultLock(mm, vma, flags);
            mm.kernel().mark(LOCK_OR_RETRY_DROPPED);
            page.waitLocked();
            return VM_FAULT_RETRY;
        }
        page.lock();
        return 0;
    }

    /** {@code remove_device_exclusive_entry}, entered without the page-table lock. */
    private static int removeDeviceExclusiveEntry(MmStruct mm, Vma vma, PhysMem phys, PageTable pt, SpinLock ptl,
                                                  long page, long origPte, int flags) {
        Page p = phys.pfnToPage(Pte.pfn(origPte));
        if (!p.tryGet()) {
            return 0;
        }
        int locked = folioLockOrRetry(mm, vma, p, flags);
        if (locked != 0) {
            p.put();
            return locked;
        }
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

    /**
     * {@code wp_page_copy}: copy on write of a read-only private entry (for {@code unshare} the
     * copy is mapped read-only and clean), page-table lock not held.
     */
    private static int wpPageCopy(MmStruct mm, PhysMem phys, PageTable pt, SpinLock ptl, long page, long oldPte,
            boolean unshare) {
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
        pt.set(page, unshare ? Pte.mkYoung(Pte.mkPresent(copy.pfn(), false))
                : Pte.mkDirty(Pte.mkYoung(Pte.mkPresent(copy.pfn(), true))));
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
