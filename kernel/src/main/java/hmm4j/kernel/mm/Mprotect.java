package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.sync.SpinLock;

/**
 * Changing the protection of a range: {@code mprotect} (mm/mprotect.c,
 * {@code do_mprotect_pkey}, {@code mprotect_fixup}, {@code change_protection}).
 *
 * <p>Overview. Under the mmap write lock, each VMA of the range gets its new
 * {@code VM_READ/VM_WRITE/VM_EXEC} bits (the other flags are kept); the tree is split at the
 * range's edges and merged again through {@link VmaTree#applyFlags}. Then the page-table
 * entries of that piece are brought in line with the new protection:
 * <ul>
 *   <li>write removed: present entries are write-protected, writable migration and device
 *       entries become read-only ones;</li>
 *   <li>no access left ({@code PROT_NONE}): present entries (the zero page included) stay
 *       present but are made {@link Pte#mkProtNone prot-none} and read-only, so the pages
 *       stay allocated and a later {@code mprotect} makes them reachable again;</li>
 *   <li>write added: entries are left read-only; the next write fault makes them writable,
 *       reusing an exclusive anonymous page or copying a shared one, and for a shared
 *       mapping just setting the write bit ({@link Fault#handleMmFault}).</li>
 * </ul>
 * Swap entries are left as they are.
 *
 * <p>Notifiers. Each VMA piece whose flags change gets one {@code MMU_NOTIFY_PROTECTION_VMA}
 * invalidation over exactly [max(start, vm_start), min(end, vm_end)) around the entry
 * change, issued outside the page-table spinlock (callbacks may sleep), whether or not any
 * entry is present. A VMA whose flags already match is not touched and gets none, as in
 * the kernel.
 *
 * <p>Locking: takes the mmap lock for write, then per piece the notifier start, the
 * page-table lock, the notifier end. The caller holds an {@code mm_users} pin (its own task's,
 * or an {@code mmget}); the pin rule is checked at the VMA tree.
 *
 * <p>Differences from the kernel:
 * <ul>
 *   <li>All or nothing: a hole in the range ({@code -ENOMEM}) or a VMA that may not get the
 *       new protection ({@code -EACCES}) is found before anything changes. The kernel walks
 *       VMA by VMA and leaves the VMAs before the failing one changed.</li>
 *   <li>The kernel starts the invalidation lazily inside the page-table walk
 *       ({@code change_pud_range}), from the first populated table and once per upper-level
 *       span, and not at all where no page table exists. The model issues one per changed VMA
 *       piece over the piece's exact range; a subscriber sees a superset of the kernel's
 *       ranges, never less.</li>
 *   <li>The kernel may make exclusive anonymous (or shared, not write-notified) entries
 *       writable at once when write is added ({@code MM_CP_TRY_CHANGE_WRITABLE}); the model
 *       always leaves that to the write fault. An entry that is writable and stays in a
 *       writable VMA keeps its write bit.</li>
 *   <li>Only {@code PROT_READ}, {@code PROT_WRITE} and {@code PROT_EXEC}; {@code PROT_SEM},
 *       {@code PROT_GROWSDOWN/UP} and protection keys are {@code -EINVAL}.</li>
 * </ul>
 */
public final class Mprotect {
    private static final int PROT_MASK = Mmap.PROT_READ | Mmap.PROT_WRITE | Mmap.PROT_EXEC;

    private Mprotect() {
    }

    /**
     * {@code mprotect}: sets the protection of [{@code addr}, {@code addr + len}) (len
     * rounded up to pages) to {@code prot}. Takes the mmap lock for write; may sleep.
     *
     * @return 0 (also for {@code len == 0}); {@code -EINVAL} for an unaligned address or an
     *         unknown {@code prot} bit; {@code -ENOMEM} if the range leaves the user address
     *         space or any page of it is unmapped; {@code -EACCES} if a VMA may not get the
     *         protection (e.g. write on a shared mapping without {@code VM_MAYWRITE}). On an
     *         error nothing was changed.
     */
    public static int mprotect(MmStruct mm, long addr, long len, int prot) {
        if (!Pte.isPageAligned(addr) || (prot & ~PROT_MASK) != 0) {
            return -Errno.EINVAL;
        }
        if (len == 0) {
            return 0;
        }
        if (Long.compareUnsigned(addr, Pte.TASK_SIZE) >= 0 || Long.compareUnsigned(len, Pte.TASK_SIZE) > 0
                || addr + Pte.pageAlign(len) > Pte.TASK_SIZE) {
            return -Errno.ENOMEM;
        }
        long end = addr + Pte.pageAlign(len);
        mm.mmapWriteLock();
        try {
            VmaTree vmas = mm.vmas("mprotect");
            if (!vmas.isRangeMapped(addr, end)) {
                return -Errno.ENOMEM;
            }
            if (!Hugetlb.splitAllowed(vmas, addr, end)) {
                return -Errno.EINVAL;
            }
            for (Vma vma : vmas.intersecting(addr, end)) {
                if (!mayGet(newFlags(vma.flags(), prot))) {
                    return -Errno.EACCES;
                }
            }
            long tmp = addr;
            while (tmp < end) {
                Vma vma = vmas.vmaLookup(tmp);
                long pieceEnd = Math.min(end, vma.vmEnd());
                long flags = newFlags(vma.flags(), prot);
                if (flags != vma.flags()) {
                    mprotectFixup(mm, vmas, tmp, pieceEnd, flags);
                }
                tmp = pieceEnd;
            }
            return 0;
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** {@code calc_vm_prot_bits} over the VMA's other flags. */
    static long newFlags(long oldFlags, int prot) {
        long access = 0;
        if ((prot & Mmap.PROT_READ) != 0) access |= VmFlags.VM_READ;
        if ((prot & Mmap.PROT_WRITE) != 0) access |= VmFlags.VM_WRITE;
        if ((prot & Mmap.PROT_EXEC) != 0) access |= VmFlags.VM_EXEC;
        return (oldFlags & ~VmFlags.VM_ACCESS_FLAGS) | access;
    }

    /** Every access bit asked for has its {@code VM_MAY*} bit (which sits four bits higher). */
    private static boolean mayGet(long flags) {
        return (flags & ~(flags >>> 4) & VmFlags.VM_ACCESS_FLAGS) == 0;
    }

    /** {@code mprotect_fixup}: tree surgery for one piece, then its entries. Mmap write lock held. */
    private static void mprotectFixup(MmStruct mm, VmaTree vmas, long start, long end, long flags) {
        mm.mmapAssertWriteLocked();
        HugeMemory.splitHugePmdEdges(mm, start, end);
        vmas.applyFlags(start, end, flags);
        changeProtection(mm, start, end, flags);
    }

    /** {@code change_protection} of [start, end), bracketed by one PROTECTION_VMA invalidation. */
    private static void changeProtection(MmStruct mm, long start, long end, long flags) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA, 0, mm, start, end);
        range.invalidateRangeStart();
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("change_protection");
            PteList entries = PteList.collect(pt, start, end);
            for (int i = 0; i < entries.size(); i++) {
                long old = entries.pte(i);
                long updated = changePte(old, flags);
                if (updated != old) {
                    pt.set(entries.addr(i), updated);
                }
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
    }

    /**
     * {@code can_change_pte_writable} for the (accessible) entry {@code pte} of {@code page} in
     * {@code vma}, which has {@code VM_WRITE}: may the entry be made writable without a write
     * fault? Not a prot-none entry, not while uffd-wp tracks it; in a private VMA only an
     * exclusive anonymous page ({@code PageAnonExclusive}, read as {@link #pageAnonExclusive});
     * in a shared one only a dirty entry. The model has no soft-dirty bit, so
     * {@code pte_needs_soft_dirty_wp} never refuses. Page-table lock held. Used by the NUMA
     * hinting fault ({@link Fault}); {@code mprotect} itself leaves the upgrade to the write
     * fault (see the class comment).
     */
    static boolean canChangePteWritable(MmStruct mm, PhysMem phys, Vma vma, long page, long pte) {
        if (!vma.hasAny(VmFlags.VM_WRITE) || !Pte.isPresent(pte) || Pte.isProtNone(pte)) {
            return false;
        }
        if (vma.hasAny(VmFlags.VM_UFFD_WP) && Userfaultfd.pteWp(mm, page)) {
            return false;
        }
        if (!vma.isShared()) {
            // vm_normal_page: none for the zero page and special (page-less) entries.
            if (Pte.isZero(pte) || Pte.isSpecial(pte)) {
                return false;
            }
            Page p = phys.pfnToPage(Pte.pfn(pte));
            return p != null && pageAnonExclusive(p);
        }
        return Pte.isDirty(pte);
    }

    /**
     * The model's reading of {@code PageAnon && PageAnonExclusive}: an anonymous page, not KSM,
     * mapped once and referenced once (the model keeps no exclusive bit; the same test as the
     * write fault's reuse of a page, {@code wp_can_reuse_anon_folio}).
     */
    static boolean pageAnonExclusive(Page p) {
        return p.isAnon() && !p.testFlag(Ksm.PG_KSM) && p.mapcount() == 1 && p.refcount() == 1;
    }

    /** One entry under the VMA's new flags (see the class comment). */
    static long changePte(long pte, long flags) {
        boolean write = (flags & VmFlags.VM_WRITE) != 0;
        if (Pte.isPresent(pte)) {
            if ((flags & VmFlags.VM_ACCESS_FLAGS) == 0) {
                return Pte.mkProtNone(Pte.wrprotect(pte));
            }
            long p = Pte.clearProtNone(pte);
            return write ? p : Pte.wrprotect(p);
        }
        if (Pte.hasPfn(pte) && !write) {
            return Pte.wrprotect(pte);
        }
        return pte;
    }
}
