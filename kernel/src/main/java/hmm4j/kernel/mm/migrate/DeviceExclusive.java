package hmm4j.kernel.mm.migrate;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.sync.SpinLock;

/**
 * Exclusive device access to a system page: {@code make_device_exclusive} (mm/rmap.c, the
 * v6.15 one-page form), with the part of {@code get_user_page_vma_remote} (mm/gup.c) it uses.
 *
 * <p>Overview. The page at {@code addr} is faulted in writable (a device-private page comes
 * back to system memory, another device's exclusive entry is undone, a shared page is copied),
 * referenced and locked; then, inside an {@code MMU_NOTIFY_EXCLUSIVE} invalidation whose owner
 * is the caller's, its writable entry is replaced by a device-exclusive entry. The CPU can no
 * longer use the page without faulting; the device may (for atomics). Any CPU access faults,
 * and {@link Fault#handleMmFault} restores the entry under an {@code MMU_NOTIFY_CLEAR}
 * invalidation without owner, so the device's own notifier sees that it lost the page. Fork
 * restores the entry before copying it.
 *
 * <p>Accounting (newest form): the page stays mapped — the device-exclusive entry keeps the
 * mapping's reference and mapcount, which a zap drops as for a present entry.
 *
 * <p>Locking: the caller holds the mmap lock (read is enough; asserted) and an
 * {@code mm_users} pin, and no lock that an invalidation callback takes. May sleep (fault,
 * page lock, invalidation). Returns the page locked and referenced; the caller stores it in
 * its device tables, then unlocks and puts it.
 *
 * <p>Differences from the kernel: the older {@code make_device_exclusive_range} (v5.14–v6.13,
 * a range of pages, with the mapcount dropped while exclusive) is not modelled; no large
 * folios, so no {@code FOLL_SPLIT_PMD}; a locked page is waited for without the killable
 * variant (the model has no signals).
 */
public final class DeviceExclusive {

    private DeviceExclusive() {
    }

    /**
     * {@code make_device_exclusive(mm, addr, owner, &folio)}.
     *
     * @param owner the owner of the invalidation, so that the caller's notifier can tell its
     *              own event from others' (the kernel asks callers to filter it out)
     * @return the page, locked, with a reference for the caller; or {@code -EFAULT} (no VMA,
     *         the VMA is not writable or is special, the fault failed), {@code -ENOMEM} (out
     *         of memory in the fault) or {@code -EOPNOTSUPP} (not an anonymous page)
     */
    public static ErrPtr<Page> makeDeviceExclusive(MmStruct mm, long addr, Object owner) {
        mm.mmapAssertLocked();
        long page = addr & Pte.PAGE_MASK;
        while (true) {
            Vma vma = mm.vmaLookup(page);
            ErrPtr<Page> got = getUserPageWrite(mm, vma, page);
            if (got.isErr()) {
                return got;
            }
            Page p = got.get();
            if (!p.isAnon()) {
                p.put();
                return ErrPtr.err(-Errno.EOPNOTSUPP);
            }
            HugeMemory.splitHugePmd(mm, page);
            p.lock();
            Rmap.folioLockHeld(mm.kernel());
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_EXCLUSIVE, 0, mm, page,
                    page + Pte.PAGE_SIZE, owner);
            range.invalidateRangeStart();
            PageTable pt = mm.pgd("make_device_exclusive");
            SpinLock ptl = mm.pageTableLock();
            ptl.lock();
            long pte = pt.get(page);
            boolean same = Pte.isPresent(pte) && !Pte.isSpecial(pte) && Pte.pfn(pte) == p.pfn() && Pte.isWrite(pte);
            if (same) {
                long old = pt.getAndClear(page);
                if (Pte.isDirty(old)) {
                    p.setFlag(Page.PG_DIRTY);
                }
                pt.set(page, Pte.mkDeviceExclusive(p.pfn(), true));
            }
            ptl.unlock();
            range.invalidateRangeEnd();
            Rmap.folioLockReleased(mm.kernel());
            if (same) {
                return ErrPtr.of(p);
            }
            p.unlock();
            p.put();
        }
    }

    /**
     * The {@code FOLL_GET | FOLL_WRITE} lookup of {@code get_user_page_vma_remote}: the page
     * mapped writable at {@code addr}, referenced, faulting it in (write) as often as needed.
     */
    private static ErrPtr<Page> getUserPageWrite(MmStruct mm, Vma vma, long addr) {
        if (vma == null || !vma.hasAny(VmFlags.VM_WRITE) || vma.hasAny(VmFlags.VM_IO | VmFlags.VM_PFNMAP)) {
            return ErrPtr.err(-Errno.EFAULT);
        }
        PhysMem phys = PhysMem.of(mm.kernel());
        PageTable pt = mm.pgd("get_user_pages");
        SpinLock ptl = mm.pageTableLock();
        while (true) {
            ptl.lock();
            long pte = pt.get(addr);
            if (Pte.isPresent(pte) && !Pte.isProtNone(pte) && Pte.isWrite(pte)) {
                if (Pte.isSpecial(pte)) {
                    ptl.unlock();
                    return ErrPtr.err(-Errno.EFAULT);
                }
                Page p = phys.pfnToPage(Pte.pfn(pte));
                p.get();
                ptl.unlock();
                return ErrPtr.of(p);
            }
            ptl.unlock();
            int ret = Fault.handleMmFault(mm, vma, addr, Fault.FAULT_FLAG_WRITE | Fault.FAULT_FLAG_REMOTE);
            if ((ret & Fault.VM_FAULT_OOM) != 0) {
                return ErrPtr.err(-Errno.ENOMEM);
            }
            if ((ret & Fault.VM_FAULT_ERROR) != 0) {
                return ErrPtr.err(-Errno.EFAULT);
            }
        }
    }
}
