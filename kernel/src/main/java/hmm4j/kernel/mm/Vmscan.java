package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;

/**
 * Reclaim of anonymous memory to swap: the part of {@code shrink_folio_list}
 * (mm/vmscan.c) that swaps an anonymous page out, with {@code try_to_unmap_one}
 * (mm/rmap.c) doing the unmap, driven over one mm's range.
 *
 * <p>Overview. {@link #reclaimAnon} walks the private VMAs of a range and swaps out every
 * eligible page: present, anonymous, mapped once and referenced only by that mapping (no
 * other mm after fork, no device or {@code get_user_pages} holder), and not locked. For
 * each page: an {@code MMU_NOTIFY_CLEAR} invalidation of exactly that page is started
 * (outside the page-table spinlock: callbacks may sleep), then under the page-table lock the
 * entry is checked again, the contents are written to a new swap slot
 * ({@link SwapSpace#allocate}) and the entry becomes a swap entry for it; the invalidation
 * ends, and the page's last reference is dropped, freeing it. A later access faults the
 * contents back in from swap ({@link Fault}).
 *
 * <p>A clean page lazily freed by {@code MADV_FREE} ({@link LazyFree}) is discarded instead
 * of swapped: its entry becomes none. A PMD-mapped THP is reclaimed whole
 * ({@link HugeMemory}: one CLEAR of its 2 MiB, split, 512 swap entries, or dropped if lazily
 * freed and clean).
 *
 * <p>Locking: takes the mmap lock for read (for the VMA walk, as {@code MADV_PAGEOUT}'s
 * {@code reclaim_pages} runs under it; kswapd holds none), then per page, in the kernel's
 * order ({@link Rmap}): the page lock (trylock, with a reference), the anon_vma rwsem for read,
 * the notifier start, the page-table lock; then the notifier end and the unlocks. The caller holds
 * an {@code mm_users} pin: a task of the mm, or a kernel thread (a "kswapd") that got one
 * with {@code mmget_not_zero}; the pin rule is checked at the VMA tree and page table.
 *
 * <p>Differences from the kernel: there is no global LRU, no aging and no swap cache. The
 * kernel finds victims on the LRU lists and reaches every mapping through the reverse map;
 * the model scans one mm's page tables (as {@code MADV_PAGEOUT} does through
 * {@code reclaim_pages}) and takes every eligible page regardless of its accessed bit. Pages
 * mapped by more than one mm are skipped rather than unmapped from all of them. The swap
 * slot is written while the entry is replaced, under the page-table lock, instead of by
 * writeback after the unmap; a full swap device ends the pass, checked before the
 * invalidation is started.
 */
public final class Vmscan {

    private Vmscan() {
    }

    /**
     * Swaps out the eligible anonymous pages of [{@code start}, {@code end}) of {@code mm}
     * (see the class comment). Takes the mmap lock for read; may sleep.
     *
     * @return the number of pages swapped out; fewer than eligible if the swap device filled up
     * @throws IllegalArgumentException if the bounds are not page aligned, ordered user addresses
     */
    public static int reclaimAnon(MmStruct mm, long start, long end) {
        if (start < 0 || end > Pte.TASK_SIZE || start > end || !Pte.isPageAligned(start)
                || !Pte.isPageAligned(end)) {
            throw new IllegalArgumentException("bad range [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(end) + ")");
        }
        mm.mmapReadLock();
        try {
            return reclaimAnonLocked(mm, start, end);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /**
     * {@link #reclaimAnon} with the mmap lock already held by the caller (asserted), as
     * {@code madvise_pageout}'s {@code reclaim_pages} runs ({@link MadviseCold}).
     */
    static int reclaimAnonLocked(MmStruct mm, long start, long end) {
        mm.mmapAssertLocked();
        PhysMem phys = PhysMem.of(mm.kernel());
        SwapSpace swap = SwapSpace.of(mm.kernel());
        int reclaimed = 0;
        for (Vma vma : mm.vmas("reclaim").intersecting(start, end)) {
            if (vma.isShared() || vma.hasAny(VmFlags.VM_LOCKED)) {
                continue;
            }
            long from = Math.max(start, vma.vmStart());
            long to = Math.min(end, vma.vmEnd());
            PteList entries;
            SpinLock ptl = mm.pageTableLock();
            ptl.lock();
            try {
                entries = PteList.collect(mm.pgd("reclaim"), from, to);
            } finally {
                ptl.unlock();
            }
            for (int i = 0; i < entries.size(); i++) {
                if (Pte.isHuge(entries.pte(i))) {
                    long leafEnd = (entries.addr(i) & Pte.PMD_MASK) + Pte.PMD_SIZE;
                    if (leafEnd <= to && (entries.addr(i) & ~Pte.PMD_MASK) == 0) {
                        reclaimed += HugeMemory.reclaimPmd(mm, phys, swap, entries.addr(i));
                    }
                    while (i + 1 < entries.size() && entries.addr(i + 1) < leafEnd) {
                        i++;
                    }
                    continue;
                }
                if (eligible(phys, entries.pte(i), 0) == null) {
                    continue;
                }
                if (swap.usedSlots() >= swap.totalSlots()) {
                    return reclaimed;
                }
                if (tryToUnmap(mm, phys, swap, entries.addr(i))) {
                    reclaimed++;
                }
            }
        }
        return reclaimed;
    }

    /**
     * The page behind {@code pte} if it may be swapped out, else null: present, anonymous,
     * mapped once and referenced by that mapping and {@code extraRefs} holders (the reclaim's
     * own reference once it has taken one).
     */
    private static Page eligible(PhysMem phys, long pte, int extraRefs) {
        if (!Pte.isPresent(pte) || Pte.isSpecial(pte)) {
            return null;
        }
        Page page = phys.pfnToPage(Pte.pfn(pte));
        if (page == null || !page.isAnon() || page.mapcount() != 1 || page.refcount() != 1 + extraRefs) {
            return null;
        }
        return page;
    }

    /**
     * {@code shrink_folio_list} → {@code try_to_unmap} for the page mapped at {@code addr}, in
     * the kernel's lock order: the page is locked with a trylock (and a reference taken, as its
     * isolation from the LRU holds one), then {@code rmap_walk_anon} takes the anon_vma rwsem for
     * read and {@link #tryToUnmapOne} runs the invalidation under both; the locks go in reverse
     * order. True if the page went to swap (or was discarded).
     */
    private static boolean tryToUnmap(MmStruct mm, PhysMem phys, SwapSpace swap, long addr) {
        Kernel k = mm.kernel();
        SpinLock ptl = mm.pageTableLock();
        Page page;
        ptl.lock();
        try {
            page = eligible(phys, mm.pgd("reclaim").get(addr), 0);
            if (page == null || !page.trylock()) {
                return false;
            }
            page.get();
        } finally {
            ptl.unlock();
        }
        boolean unmapped;
        Rmap.folioLockHeld(k);
        try {
            RwSemaphore anonVma = Rmap.anonVmaLockRead(mm);
            try {
                unmapped = tryToUnmapOne(mm, phys, swap, addr, page);
            } finally {
                Rmap.anonVmaUnlockRead(anonVma);
            }
        } finally {
            Rmap.folioLockReleased(k);
            page.unlock();
        }
        if (unmapped) {
            page.put();
        }
        page.put();
        return unmapped;
    }

    /**
     * {@code try_to_unmap_one} plus the swap-out of {@code page} at {@code addr}: one CLEAR
     * invalidation of the page around re-checking and replacing its entry under the
     * page-table lock. The caller holds the page lock, a reference and the anon_vma rwsem.
     * True if the entry no longer maps the page (the caller drops the mapping's reference).
     */
    private static boolean tryToUnmapOne(MmStruct mm, PhysMem phys, SwapSpace swap, long addr, Page page) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, addr,
                addr + Pte.PAGE_SIZE);
        range.invalidateRangeStart();
        boolean unmapped = false;
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("try_to_unmap");
            if (eligible(phys, pt.get(addr), 1) == page) {
                if (LazyFree.discardable(page, pt.get(addr))) {
                    // A clean lazily freed page is dropped, not swapped.
                    pt.set(addr, 0);
                    page.decMapcount();
                    unmapped = true;
                } else {
                    long slot = swap.allocate(page);
                    if (slot != 0) {
                        pt.set(addr, Pte.mkSwap(slot));
                        page.decMapcount();
                        unmapped = true;
                    }
                }
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
        return unmapped;
    }
}
