package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.sync.SpinLock;

/**
 * Writing to {@code /proc/PID/clear_refs} (fs/proc/task_mmu.c, {@code clear_refs_write},
 * {@code clear_refs_pte_range}, {@code clear_refs_test_walk}, {@code clear_soft_dirty},
 * {@code clear_soft_dirty_pmd}).
 *
 * <p>Overview. {@link #CLEAR_REFS_ALL}, {@link #CLEAR_REFS_ANON} and {@link #CLEAR_REFS_MAPPED}
 * clear the accessed bit of the present entries of every VMA (only the anonymous VMAs, only
 * the file-backed ones) with {@code ptep_test_and_clear_young}, which tells no notifier: they
 * send no invalidation. {@link #CLEAR_REFS_SOFT_DIRTY} write-protects every present entry of
 * every VMA (a PMD leaf whole), so the next CPU write faults and the write fault makes the
 * entry writable again ({@link Fault}); an entry that is writable in a COW mapping of a mm that
 * has pinned pages, and whose page may be DMA-pinned, is left writable
 * ({@code pte_is_pinned}). That walk is bracketed by one {@code MMU_NOTIFY_SOFT_DIRTY}
 * invalidation of the whole address space, [0, {@code ULONG_MAX}), owner none, blockable.
 * {@link #CLEAR_REFS_MM_HIWATER_RSS} takes the lock and changes nothing the model keeps.
 * {@code VM_PFNMAP} VMAs are skipped.
 *
 * <p>Locking: the caller holds an {@code mm_users} pin ({@code get_task_mm}). The whole
 * operation runs under the mmap lock for write, taken killable ({@code -EINTR} with a fatal
 * signal pending), as the kernel has done since v5.12; then the invalidation start, per VMA the
 * page-table lock around its entries, the invalidation end.
 *
 * <p>Differences from the kernel: the model has no soft-dirty bit in its entries and no
 * {@code VM_SOFTDIRTY} flag on its VMAs (nothing reads them: there is no
 * {@code /proc/PID/pagemap}); only the write-protection, which is what a secondary MMU sees,
 * is modelled. No page-level referenced or idle bits are cleared (the model keeps none).
 */
public final class ClearRefs {
    /** {@code CLEAR_REFS_ALL}. */
    public static final int CLEAR_REFS_ALL = 1;
    /** {@code CLEAR_REFS_ANON}. */
    public static final int CLEAR_REFS_ANON = 2;
    /** {@code CLEAR_REFS_MAPPED}. */
    public static final int CLEAR_REFS_MAPPED = 3;
    /** {@code CLEAR_REFS_SOFT_DIRTY}. */
    public static final int CLEAR_REFS_SOFT_DIRTY = 4;
    /** {@code CLEAR_REFS_MM_HIWATER_RSS}. */
    public static final int CLEAR_REFS_MM_HIWATER_RSS = 5;

    private ClearRefs() {
    }

    /**
     * {@code clear_refs_write} of {@code type} for {@code mm}; the caller holds an
     * {@code mm_users} pin. May sleep.
     *
     * @return 0, {@code -EINVAL} for an unknown type, {@code -EINTR} if the mmap lock could not
     *         be taken because a fatal signal is pending
     */
    public static int clearRefsWrite(MmStruct mm, int type) {
        if (type < CLEAR_REFS_ALL || type > CLEAR_REFS_MM_HIWATER_RSS) {
            return -Errno.EINVAL;
        }
        if (mm.mmapWriteLockKillable() != 0) {
            return -Errno.EINTR;
        }
        try {
            if (type == CLEAR_REFS_MM_HIWATER_RSS) {
                return 0;
            }
            MmuNotifierRange range = null;
            if (type == CLEAR_REFS_SOFT_DIRTY) {
                range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_SOFT_DIRTY, 0, mm, 0,
                        MmuNotifierRange.ULONG_MAX);
                range.invalidateRangeStart();
            }
            boolean pinned = FolioPins.of(mm.kernel()).mmHasPinned(mm);
            for (Vma vma : mm.vmas("clear_refs").intersecting(0, Pte.TASK_SIZE)) {
                if (!skip(vma, type)) {
                    clearRefsVma(mm, vma, type, pinned);
                }
            }
            if (range != null) {
                range.invalidateRangeEnd();
            }
            return 0;
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** {@code clear_refs_test_walk}: true if the walk leaves {@code vma} alone. */
    private static boolean skip(Vma vma, int type) {
        if (vma.hasAny(VmFlags.VM_PFNMAP)) {
            return true;
        }
        boolean file = vma.file() != null || vma.vmFile() != null;
        return type == CLEAR_REFS_ANON && file || type == CLEAR_REFS_MAPPED && !file;
    }

    /** {@code clear_refs_pte_range} over the whole of {@code vma}, under the page-table lock. */
    private static void clearRefsVma(MmStruct mm, Vma vma, int type, boolean mmHasPinned) {
        PhysMem phys = PhysMem.of(mm.kernel());
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("clear_refs");
            PteList entries = PteList.collect(pt, vma.vmStart(), vma.vmEnd());
            for (int i = 0; i < entries.size(); i++) {
                long addr = entries.addr(i);
                long pte = entries.pte(i);
                if (Pte.isHuge(pte)) {
                    long haddr = addr & Pte.PMD_MASK;
                    if (Pte.isPresent(pt.pmdLeaf(haddr))) {
                        pt.updatePmdLeaf(haddr, type == CLEAR_REFS_SOFT_DIRTY ? Pte::wrprotect : Pte::mkOld);
                    }
                    while (i + 1 < entries.size() && entries.addr(i + 1) < haddr + Pte.PMD_SIZE) {
                        i++;
                    }
                    continue;
                }
                if (!Pte.isPresent(pte)) {
                    continue;
                }
                if (type == CLEAR_REFS_SOFT_DIRTY) {
                    if (!isPinned(phys, vma, pte, mmHasPinned)) {
                        pt.set(addr, Pte.wrprotect(pte));
                    }
                } else if (!Pte.isSpecial(pte) && !Pte.isZero(pte) && Pte.isYoung(pte)) {
                    pt.set(addr, Pte.mkOld(pte));
                }
            }
        } finally {
            ptl.unlock();
        }
    }

    /**
     * {@code pte_is_pinned}: a writable entry of a COW mapping whose page may be DMA-pinned, in
     * a mm that has pinned pages, keeps its write bit (write-protecting it would make the next
     * CPU write copy the page away from the device's pin).
     */
    private static boolean isPinned(PhysMem phys, Vma vma, long pte, boolean mmHasPinned) {
        if (!Pte.isWrite(pte) || vma.isShared() || !vma.hasAny(VmFlags.VM_MAYWRITE) || !mmHasPinned
                || Pte.isSpecial(pte) || Pte.isZero(pte)) {
            return false;
        }
        Page page = phys.pfnToPage(Pte.pfn(pte));
        return page != null && FolioPins.of(phys.kernel()).folioMaybeDmaPinned(page);
    }
}
