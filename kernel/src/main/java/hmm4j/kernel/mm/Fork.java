package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;

/**
 * The address-space half of fork: {@code dup_mm} and {@code dup_mmap} (kernel/fork.c), with
 * {@code copy_page_range} and {@code copy_{present,nonpresent}_pte} (mm/memory.c).
 *
 * <p>Overview. The new mm gets a copy of every VMA except {@code VM_DONTCOPY} ones (the copy
 * loses {@code VM_LOCKED}, as in the kernel), and the page-table entries of the VMAs that need
 * them:
 * <ul>
 *   <li>A COW mapping ({@code is_cow_mapping}: private and {@code VM_MAYWRITE}, whether or not
 *       currently writable): every present page is shared, with one more reference and one more
 *       mapping, and a writable entry is write-protected in <em>both</em> mms, so the next write
 *       in either copies the page ({@link Fault}); when one side has copied, the page is mapped
 *       once again and the other side reuses it in place. The zero page is copied as is. A swap
 *       entry is copied and its slot gets one more user ({@link SwapSpace#duplicate}). A writable
 *       migration entry becomes a read-only one in both mms (it holds no reference of its
 *       own).</li>
 *   <li>A shared mapping gets no entries: the child's faults find the same page-cache pages,
 *       as the kernel's {@code vma_needs_copy} decides for mappings that are neither
 *       {@code VM_PFNMAP}/{@code VM_MIXEDMAP} nor hold anonymous pages. {@code VM_PFNMAP} and
 *       {@code VM_MIXEDMAP} mappings are copied entry for entry.</li>
 * </ul>
 * The child's entries are marked old, and for shared mappings clean.
 *
 * <p>Notifiers. In the parent, each COW mapping's copy is bracketed by one
 * {@code MMU_NOTIFY_PROTECTION_PAGE} invalidation over the whole VMA
 * [{@code vm_start}, {@code vm_end}), started before and ended after the page-table locks,
 * with the parent's mmap lock held for write. The child has no subscriptions yet.
 *
 * <p>Locking: the parent's mmap lock for write, then the child's for write; per VMA the
 * notifier start, the parent's page-table lock, the child's page-table lock. The kernel nests
 * the child's mmap lock and the parent's page-table lock with lockdep subclasses; the model's
 * lockdep has none, so the child's locks are taken with trylocks, which cannot fail because
 * nobody else can reach the new mm yet, and add no dependency. For the same reason the
 * page-table locks are taken parent first, where the kernel takes the child's first.
 *
 * <p>Lifetime: the new mm is allocated with its one {@code mm_users} reference held by the
 * calling task, which pins it for the pin rule while the copy runs; on return that reference
 * is handed to the new owner (the child task).
 *
 * <p>Device memory ({@code copy_nonpresent_pte}). A device-private entry is shared like a
 * present page: the device page gets one more reference and mapping, the child's place joins
 * the pgmap's device rmap, and in a COW mapping a writable entry becomes read-only in both
 * mms, so that the first write on either side migrates the page back to system memory and
 * then copies it. A migration entry of a device page also joins the rmap, so that the
 * migration rewrites the child's copy too. A device-exclusive entry is first restored to the
 * present entry it stands for, in the parent (the VMA's invalidation is in progress, so the
 * device is told), under its page lock taken with a trylock, and then copied as a present
 * page. If the page is locked by someone else the copy stops there and the fork fails with
 * {@code -ENOMEM}, as the kernel's {@code copy_pte_range} passes {@code -EBUSY} up and
 * {@code copy_pmd_range} turns any error into {@code -ENOMEM}; the partial new mm is released
 * with {@code mmput} after the mmap locks are dropped ({@code dup_mm}).
 *
 * <p>Pinned pages ({@link ForkPinned}): in a COW mapping of an mm that ever pinned a page
 * ({@code MMF_HAS_PINNED}), an anonymous page that may be pinned for DMA is copied for the
 * child at once and the parent keeps its entry as it was, writable, so the pin and the
 * parent's mapping stay on the same page.
 *
 * <p>Differences from the kernel: no {@code anon_vma}: every private VMA counts as holding
 * anonymous pages, so its entries are copied (and it gets its invalidation) even where the
 * kernel would skip a private file mapping never written to. No {@code VM_WIPEONFORK}, no
 * accounting, no pinned-page ({@code FOLL_PIN}) early copy, no allocation failure (the
 * model's page tables cannot run out of memory): a locked device-exclusive page is the only
 * way a fork fails.
 */
public final class Fork {
    /** Coverage mark: fork found a device-exclusive page locked by someone else and failed. */
    public static final Mark EXCLUSIVE_LOCKED = Mark.of("fork.device-exclusive.locked",
            "fork found a device-exclusive page whose lock was taken and failed with -ENOMEM");

    private Fork() {
    }

    /**
     * {@code dup_mm}: a new mm duplicating {@code oldmm}, the calling task's own mm (or one it
     * holds an {@code mm_users} pin on). Takes {@code oldmm}'s mmap lock for write; may sleep.
     *
     * @return the new mm, {@code mm_users == 1}, {@code mm_count == 1}; the calling context
     *         holds the {@code mm_users} reference and hands it to the child task with
     *         {@link MmStruct#transferUsersRef} (the child drops it with {@code exit_mm});
     *         or {@code -ENOMEM} when the copy failed (the partial mm is already released)
     */
    public static ErrPtr<MmStruct> dupMm(MmStruct oldmm) {
        Kernel k = oldmm.kernel();
        MmStruct mm = MmStruct.mmAlloc(k, MmStruct.holder(k));
        int err = dupMmap(mm, oldmm);
        if (err != 0) {
            mm.mmput();
            return ErrPtr.err(err);
        }
        return ErrPtr.of(mm);
    }

    /**
     * {@code dup_mmap}: copies the VMAs and their entries into the new, empty {@code mm};
     * stops at the first VMA whose copy fails and returns its error (0 when all are copied).
     */
    private static int dupMmap(MmStruct mm, MmStruct oldmm) {
        oldmm.mmapWriteLock();
        try {
            if (!mm.mmapLock().downWriteTrylock()) {
                throw new IllegalStateException("dup_mmap: the new " + mm.name() + " is already locked");
            }
            try {
                VmaTree dst = mm.vmas("dup_mmap");
                for (Vma vma : oldmm.vmas("dup_mmap")) {
                    if (vma.hasAny(VmFlags.VM_DONTCOPY)) {
                        continue;
                    }
                    // hugetlb_dup_vma_private: the child's copy owns no hugetlb reservation.
                    long childFlags = (vma.flags() & ~VmFlags.VM_LOCKED)
                            | (vma.hasAny(VmFlags.VM_HUGETLB) ? VmFlags.VM_NORESERVE : 0);
                    Vma copy = new Vma(vma.vmStart(), vma.vmEnd(), childFlags, vma.file(), vma.pgoff());
                    copy.inheritFile(vma);
                    if (Rmap.hasAnonVma(vma)) {
                        // anon_vma_fork: anon_vma_clone and the link of the child's anon_vma,
                        // each under the root's rwsem for write (the parent's in the model).
                        Rmap.anonVmaUnlockWrite(Rmap.anonVmaLockWrite(oldmm));
                    }
                    dst.insert(copy);
                    int err = copyPageRange(mm, oldmm, vma);
                    if (err != 0) {
                        return err;
                    }
                }
                return 0;
            } finally {
                mm.mmapWriteUnlock();
            }
        } finally {
            oldmm.mmapWriteUnlock();
        }
    }

    /** {@code is_cow_mapping}: private and may become writable. */
    public static boolean isCowMapping(long flags) {
        return (flags & (VmFlags.VM_SHARED | VmFlags.VM_MAYWRITE)) == VmFlags.VM_MAYWRITE;
    }

    /** {@code vma_needs_copy}, with every private VMA counted as holding anonymous pages. */
    private static boolean vmaNeedsCopy(Vma vma) {
        return vma.hasAny(VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP) || !vma.isShared();
    }

    /**
     * {@code copy_page_range} for one VMA; both mmap locks held for write. Returns 0, or
     * {@code -ENOMEM} when {@code copy_pte_range} stopped ({@code copy_pmd_range}'s mapping
     * of every error).
     */
    private static int copyPageRange(MmStruct dst, MmStruct src, Vma vma) {
        src.mmapAssertWriteLocked();
        if (!vmaNeedsCopy(vma)) {
            return 0;
        }
        boolean cow = isCowMapping(vma.flags());
        MmuNotifierRange range = null;
        if (cow) {
            range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_PROTECTION_PAGE, 0, src, vma.vmStart(),
                    vma.vmEnd());
            range.invalidateRangeStart();
        }
        SpinLock srcPtl = src.pageTableLock();
        int err;
        srcPtl.lock();
        try {
            SpinLock dstPtl = dst.pageTableLock();
            if (!dstPtl.trylock()) {
                throw new IllegalStateException("copy_page_range: the new " + dst.name() + " is already locked");
            }
            try {
                FolioPins pins = FolioPins.of(src.kernel());
                err = copyPteRange(dst, dst.pgd("copy_page_range"), src.pgd("copy_page_range"),
                        PhysMem.of(src.kernel()), vma, cow, cow && pins.mmHasPinned(src) ? pins : null);
            } finally {
                dstPtl.unlock();
            }
        } finally {
            srcPtl.unlock();
        }
        if (range != null) {
            range.invalidateRangeEnd();
        }
        return err == 0 ? 0 : -Errno.ENOMEM;
    }

    /**
     * {@code copy_pte_range}: every non-none entry of the VMA; both page-table locks held.
     * Returns 0, or {@code -EBUSY} at a device-exclusive entry whose page lock is taken
     * ({@code try_restore_exclusive_pte}), or {@code -ENOMEM} when the copy of a pinned page
     * found no memory; the entries before it stay copied. {@code pinned} is the pin accounting
     * when pinned anonymous pages must be copied early (a COW mapping of an mm with
     * {@code MMF_HAS_PINNED}), else null.
     */
    private static int copyPteRange(MmStruct dstMm, PageTable dst, PageTable src, PhysMem phys, Vma vma,
                                    boolean cow, FolioPins pinned) {
        PteList entries = PteList.collect(src, vma.vmStart(), vma.vmEnd());
        for (int i = 0; i < entries.size(); i++) {
            long addr = entries.addr(i);
            long pte = entries.pte(i);
            if (Pte.isDeviceExclusive(pte)) {
                Page page = phys.pfnToPage(Pte.pfn(pte));
                if (!page.trylock()) {
                    dstMm.kernel().mark(EXCLUSIVE_LOCKED);
                    return -Errno.EBUSY;
                }
                pte = Fault.restoreExclusivePte(vma, pte);
                src.set(addr, pte);
                page.unlock();
            }
            if (Pte.isHuge(pte)) {
                HugeMemory.copyHugePmd(dstMm, phys, dst, src, addr, cow);
                long leafEnd = addr + Pte.PMD_SIZE;
                while (i + 1 < entries.size() && entries.addr(i + 1) < leafEnd) {
                    i++;
                }
                continue;
            }
            long child;
            if (pinned != null && Pte.isPresent(pte) && ForkPinned.needsCowForDma(phys, pinned, pte)) {
                child = ForkPinned.copyPresentPage(dstMm, phys, vma, pte);
                if (child == 0) {
                    return -Errno.ENOMEM;
                }
            } else if (Pte.isPresent(pte)) {
                child = copyPresentPte(src, phys, vma, addr, pte, cow);
            } else {
                child = copyNonpresentPte(src, phys, addr, pte, cow);
            }
            dst.set(addr, child);
            if (Pte.isDevicePrivate(child) || Pte.isMigration(child) || Pte.isPresent(child) && !Pte.isSpecial(child)) {
                Page page = phys.pfnToPage(Pte.pfn(child));
                if (page != null && page.pgmap() != null) {
                    page.pgmap().rmapAdd(page, dstMm, dst, addr);
                }
            }
        }
        return 0;
    }

    /** {@code copy_present_pte}: shares the page; write-protects both sides of a COW mapping. */
    private static long copyPresentPte(PageTable src, PhysMem phys, Vma vma, long addr, long pte, boolean cow) {
        if (!Pte.isSpecial(pte)) {
            Page page = phys.pfnToPage(Pte.pfn(pte));
            page.get();
            page.incMapcount();
        }
        if (cow && Pte.isWrite(pte)) {
            pte = Pte.wrprotect(pte);
            src.set(addr, pte);
        }
        if (vma.isShared()) {
            pte = Pte.mkClean(pte);
        }
        return Pte.mkOld(pte);
    }

    /**
     * {@code copy_nonpresent_pte}: swap, migration and device-private entries (the child's
     * rmap place is added by the caller).
     */
    private static long copyNonpresentPte(PageTable src, PhysMem phys, long addr, long pte, boolean cow) {
        if (Pte.isSwap(pte)) {
            SwapSpace.of(phys.kernel()).duplicate(Pte.swapOffset(pte));
            return pte;
        }
        if (Pte.isDevicePrivate(pte)) {
            Page page = phys.pfnToPage(Pte.pfn(pte));
            page.get();
            page.incMapcount();
        }
        if (cow && Pte.isWrite(pte)) {
            pte = Pte.wrprotect(pte);
            src.set(addr, pte);
        }
        return pte;
    }
}
