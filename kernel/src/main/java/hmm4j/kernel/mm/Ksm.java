package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Signal;
import hmm4j.sim.Kernel;
import hmm4j.sim.RefHolder;
import hmm4j.sim.Task;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Kernel samepage merging (mm/ksm.c): {@code madvise(MADV_MERGEABLE)} ({@code ksm_madvise},
 * {@code __ksm_enter}) and one scan of ksmd ({@code ksm_do_scan}, {@code cmp_and_merge_page},
 * {@code try_to_merge_with_ksm_page}, {@code try_to_merge_one_page},
 * {@code write_protect_page}, {@code replace_page}).
 *
 * <p>Overview. {@link #madviseMergeable} sets {@link VmFlags#VM_MERGEABLE} on the private
 * anonymous VMAs of a range and registers the mm with KSM (an {@code mm_count} reference, as
 * the kernel's mm slot holds). {@link #ksmdScan} is one pass of ksmd over every registered mm:
 * it collects the present anonymous pages of the mergeable VMAs that are mapped only there
 * (with a reference each), then, page by page, merges a page with an identical KSM page of the
 * stable tree, or with an identical page seen earlier in the pass (the unstable tree), which
 * then becomes a KSM page. A KSM page ({@link #PG_KSM}) is mapped read-only everywhere; a write
 * to it faults and copies ({@link Fault}, never reused as an exclusive anonymous page).
 *
 * <p>Notifiers. Merging a page costs one or two {@code MMU_NOTIFY_CLEAR} invalidations, owner
 * none, blockable, of exactly that page: {@code write_protect_page} (the entry becomes
 * read-only and clean, refused if anything but its mapping and the scan holds a reference, e.g.
 * a GUP pin) and, if it is merged into an existing KSM page, {@code replace_page} (the entry
 * now maps the KSM page, and the old page loses its mapping). Both run with the mmap lock of
 * that page's mm for read and the page's folio lock (a trylock) held.
 *
 * <p>Locking: {@link #madviseMergeable} takes the mmap lock for write. {@link #ksmdScan} takes
 * an {@code mm_users} pin of each registered mm ({@code mmget_not_zero}; an mm whose users are
 * gone leaves KSM and drops its {@code mm_count}), and for each merge step that mm's mmap lock
 * for read, then the folio lock, the notifier start, the page-table lock. It may run in any
 * task (a "ksmd" kernel thread in the tests).
 *
 * <p>Differences from the kernel: the trees are hash maps keyed by the whole contents (the
 * kernel's are red-black trees ordered by {@code memcmp}, the unstable one rebuilt each pass
 * and guarded by a checksum that must stay the same for one pass); every candidate is merged in
 * the pass that finds it. ksmd holds an {@code mm_users} pin where the kernel holds only the
 * slot's {@code mm_count} and checks {@code ksm_test_exit} under the mmap lock (the model's
 * pin rule wants one). {@link #madviseUnmergeable} breaks each KSM page with an unsharing fault, no zero-page merging,
 * no THP splitting (PMD leaves are skipped), no KSM of swapped pages.
 */
public final class Ksm {
    /** {@code MADV_MERGEABLE}. */
    public static final int MADV_MERGEABLE = 12;
    /** {@code MADV_UNMERGEABLE}. */
    public static final int MADV_UNMERGEABLE = 13;
    /**
     * The model's mark of a KSM page (the kernel's {@code PAGE_MAPPING_KSM} in
     * {@code folio->mapping}): a page flag bit above those {@link Page} names.
     */
    public static final int PG_KSM = 1 << 17;

    /** A page's contents as a map key (null contents read as zeros). */
    private record Contents(byte[] bytes) {
        static Contents of(Page page) {
            byte[] b = page.contentsCopy();
            if (b == null) {
                b = new byte[(int) Pte.PAGE_SIZE];
            }
            return new Contents(b);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Contents c && Arrays.equals(bytes, c.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "contents#" + Integer.toHexString(hashCode());
        }
    }

    /** A KSM page of the stable tree, with the generation it had when it became one. */
    private record StableNode(Page page, int generation) {
        boolean alive() {
            return page.generation() == generation && page.testFlag(PG_KSM) && page.mapcount() > 0;
        }
    }

    /** One collected candidate ({@code rmap_item}): where, and the page with the scan's reference. */
    private record Item(MmStruct mm, long addr, Page page) {
    }

    private final Map<MmStruct, RefHolder> slots = new LinkedHashMap<>();
    private final Map<Contents, StableNode> stable = new HashMap<>();

    private Ksm() {
    }

    private static Ksm of(Kernel kernel) {
        return kernel.component(Ksm.class, Ksm::new);
    }

    /**
     * The end of an madvise range, as {@code madvise}'s own checks give it: {@code -EINVAL} for
     * an unaligned address or a wrapping length, {@code -ENOMEM} past the user address space.
     */
    private static long madviseEnd(long addr, long len) {
        if (!Pte.isPageAligned(addr) || len < 0 || Long.compareUnsigned(addr + Pte.pageAlign(len), addr) < 0) {
            return -Errno.EINVAL;
        }
        long end = addr + Pte.pageAlign(len);
        return end > Pte.TASK_SIZE ? -Errno.ENOMEM : end;
    }

    /**
     * {@code madvise(MADV_MERGEABLE)} of [{@code addr}, {@code addr + len}): the private
     * anonymous VMAs of the range become mergeable (the tree split at the edges), the mm is
     * registered. Takes the mmap lock for write; may sleep.
     *
     * @return 0 (also for {@code len == 0}, which does nothing), {@code -EINVAL} for an
     *         unaligned address or a wrapping length, {@code -ENOMEM} if the range has holes
     *         (the mapped parts are done)
     */
    public static int madviseMergeable(MmStruct mm, long addr, long len) {
        return ksmMadvise(mm, addr, len, MADV_MERGEABLE);
    }

    /**
     * {@code madvise(MADV_UNMERGEABLE)} of [{@code addr}, {@code addr + len}) ({@code ksm_madvise},
     * {@code unmerge_ksm_pages}, {@code break_ksm}): every KSM page mapped in the mergeable VMAs
     * of the range is unshared by a fault with {@link Fault#FAULT_FLAG_UNSHARE} (which copies it,
     * one {@code MMU_NOTIFY_CLEAR} of the page from {@code wp_page_copy}, and maps the copy
     * read-only), then the VMAs lose {@link VmFlags#VM_MERGEABLE} (the tree split at the edges).
     * Takes the mmap lock for write; may sleep. The mm stays registered (the kernel's slot stays
     * until exit too).
     *
     * @return 0 (also for {@code len == 0}, which does nothing), {@code -EINVAL} for an
     *         unaligned address or a wrapping length, {@code -ENOMEM} if the range has holes
     *         (the mapped parts are done) or a copy could not be allocated (the VMA keeps
     *         {@code VM_MERGEABLE}), {@code -EINTR} with a fatal signal pending between pages
     *         (the kernel's {@code -ERESTARTSYS})
     */
    public static int madviseUnmergeable(MmStruct mm, long addr, long len) {
        return ksmMadvise(mm, addr, len, MADV_UNMERGEABLE);
    }

    /**
     * What both KSM advices share ({@code do_madvise} → {@code madvise_walk_vmas} →
     * {@code madvise_vma_behavior} → {@code ksm_madvise}): the range checks, the mmap lock for
     * write, the walk over the range's VMA pieces ({@link Madvise#walkVmas}: holes give
     * {@code -ENOMEM} after the mapped parts, a piece's error ends the walk), and for
     * {@code MADV_MERGEABLE} the registration of the mm, whatever the walk met.
     */
    private static int ksmMadvise(MmStruct mm, long addr, long len, int advice) {
        long end = madviseEnd(addr, len);
        if (end < 0) {
            return (int) end;
        }
        if (end == addr) {
            return 0;
        }
        boolean merge = advice == MADV_MERGEABLE;
        mm.mmapWriteLock();
        try {
            int ret = Madvise.walkVmas(mm, addr, end, merge
                    ? (vma, from, to) -> mergeableVma(mm, vma, from, to)
                    : (vma, from, to) -> unmergeableVma(mm, vma, from, to));
            if (merge) {
                ksmEnter(mm);
            }
            return ret;
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** {@code ksm_madvise(MADV_MERGEABLE)} for one VMA piece: a private anonymous VMA becomes mergeable. */
    private static int mergeableVma(MmStruct mm, Vma vma, long start, long end) {
        if (vma.isShared() || !vma.isAnonymous()
                || vma.hasAny(VmFlags.VM_SPECIAL | VmFlags.VM_HUGETLB | VmFlags.VM_MERGEABLE)) {
            return 0;
        }
        updateVma(mm, vma, start, end, vma.flags() | VmFlags.VM_MERGEABLE);
        return 0;
    }

    /** {@code ksm_madvise(MADV_UNMERGEABLE)} for one VMA piece: its KSM pages unshared, then not mergeable. */
    private static int unmergeableVma(MmStruct mm, Vma vma, long start, long end) {
        if (!vma.hasAny(VmFlags.VM_MERGEABLE)) {
            return 0;
        }
        int err = unmergeKsmPages(mm, vma, start, end);
        if (err != 0) {
            return err;
        }
        updateVma(mm, vma, start, end, vma.flags() & ~VmFlags.VM_MERGEABLE);
        return 0;
    }

    /**
     * {@code madvise_update_vma}: [start, end) of {@code vma} gets {@code flags}, the tree split
     * at the piece's edges (a PMD leaf across an edge inside the VMA split first, as
     * {@code vma_adjust_trans_huge} does). Mmap write lock held.
     */
    private static void updateVma(MmStruct mm, Vma vma, long start, long end, long flags) {
        if (start > vma.vmStart() || end < vma.vmEnd()) {
            HugeMemory.splitHugePmdEdges(mm, start, end);
        }
        mm.vmas("ksm_madvise").applyFlags(start, end, flags);
    }

    /** {@code __ksm_enter}: the mm gets a KSM slot (an {@code mm_count} reference) unless it has one. */
    private static void ksmEnter(MmStruct mm) {
        Ksm ksm = of(mm.kernel());
        synchronized (ksm) {
            if (!ksm.slots.containsKey(mm)) {
                RefHolder slot = () -> "ksm mm_slot of " + mm.name();
                mm.mmgrabAs(slot);
                ksm.slots.put(mm, slot);
            }
        }
    }

    /** {@code unmerge_ksm_pages}: {@code break_ksm} at each page of [start, end) of {@code vma}. */
    private static int unmergeKsmPages(MmStruct mm, Vma vma, long start, long end) {
        Task self = mm.kernel().current();
        for (long a = start; a < end; a += Pte.PAGE_SIZE) {
            if (self != null && Signal.fatalSignalPending(self)) {
                return -Errno.EINTR;
            }
            // break_ksm: fault with FAULT_FLAG_UNSHARE until the entry maps no KSM page.
            while (mapsKsmPage(mm, a)) {
                int ret = Fault.handleMmFault(mm, vma, a, Fault.FAULT_FLAG_UNSHARE | Fault.FAULT_FLAG_REMOTE);
                if ((ret & Fault.VM_FAULT_OOM) != 0) {
                    return -Errno.ENOMEM;
                }
                if (ret != 0) {
                    break;
                }
            }
        }
        return 0;
    }

    /** {@code break_ksm_pmd_entry}: the present entry at {@code addr} maps a KSM page (read under the lock). */
    private static boolean mapsKsmPage(MmStruct mm, long addr) {
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            long pte = mm.pgd("break_ksm").get(addr);
            if (!Pte.isPresent(pte) || Pte.isZero(pte) || Pte.isSpecial(pte) || Pte.isHuge(pte)) {
                return false;
            }
            Page p = PhysMem.of(mm.kernel()).pfnToPage(Pte.pfn(pte));
            return p != null && p.testFlag(PG_KSM);
        } finally {
            ptl.unlock();
        }
    }

    /**
     * {@code ksm_exit} from {@code __mmput}: an mm leaving with its users gone leaves KSM and
     * its slot drops the {@code mm_count} reference. ksmd cannot be scanning it then (a scan
     * holds an {@code mm_users} pin). Does not sleep.
     */
    static void ksmExit(MmStruct mm) {
        Ksm ksm = mm.kernel().componentOrNull(Ksm.class);
        if (ksm == null) {
            return;
        }
        RefHolder slot;
        synchronized (ksm) {
            slot = ksm.slots.remove(mm);
        }
        if (slot != null) {
            mm.mmdropAs(slot);
        }
    }

    /**
     * One full scan of ksmd over the registered mms (see the class comment). May sleep.
     *
     * @return the number of pages merged (entries now mapping a KSM page that did not before)
     */
    public static int ksmdScan(Kernel kernel) {
        Ksm ksm = of(kernel);
        List<MmStruct> mms = new ArrayList<>();
        synchronized (ksm) {
            for (var it = ksm.slots.entrySet().iterator(); it.hasNext();) {
                var e = it.next();
                if (e.getKey().mmgetNotZero()) {
                    mms.add(e.getKey());
                } else {
                    it.remove();
                    e.getKey().mmdropAs(e.getValue());
                }
            }
            ksm.stable.values().removeIf(n -> !n.alive());
        }
        List<Item> items = new ArrayList<>();
        for (MmStruct mm : mms) {
            collect(mm, items);
        }
        int merged = 0;
        Map<Contents, Item> unstable = new HashMap<>();
        for (Item item : items) {
            merged += cmpAndMergePage(ksm, item, unstable);
        }
        for (Item item : items) {
            item.page().put();
        }
        for (MmStruct mm : mms) {
            mm.mmput();
        }
        return merged;
    }

    /** {@code scan_get_next_rmap_item} for a whole mm: its candidates, each with a reference. */
    private static void collect(MmStruct mm, List<Item> items) {
        PhysMem phys = PhysMem.of(mm.kernel());
        mm.mmapReadLock();
        try {
            for (Vma vma : mm.vmas("ksm_scan").intersecting(0, Pte.TASK_SIZE)) {
                if (!vma.hasAny(VmFlags.VM_MERGEABLE)) {
                    continue;
                }
                SpinLock ptl = mm.pageTableLock();
                ptl.lock();
                try {
                    PteList entries = PteList.collect(mm.pgd("ksm_scan"), vma.vmStart(), vma.vmEnd());
                    for (int i = 0; i < entries.size(); i++) {
                        long pte = entries.pte(i);
                        if (!Pte.isPresent(pte) || Pte.isHuge(pte) || Pte.isSpecial(pte) || Pte.isZero(pte)) {
                            continue;
                        }
                        Page page = phys.pfnToPage(Pte.pfn(pte));
                        if (page != null && page.isAnon() && page.pgmap() == null
                                && (page.testFlag(PG_KSM) || page.mapcount() == 1)) {
                            page.get();
                            items.add(new Item(mm, entries.addr(i), page));
                        }
                    }
                } finally {
                    ptl.unlock();
                }
            }
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** {@code cmp_and_merge_page}: the stable tree first, then the unstable one. */
    private static int cmpAndMergePage(Ksm ksm, Item item, Map<Contents, Item> unstable) {
        if (item.page().testFlag(PG_KSM)) {
            return 0;
        }
        Contents contents = Contents.of(item.page());
        StableNode node;
        synchronized (ksm) {
            node = ksm.stable.get(contents);
        }
        if (node != null && node.alive() && node.page() != item.page() && node.page().tryGet()) {
            // get_ksm_page: a reference on the KSM page for the merge; it may lose its last
            // mapping meanwhile, but not be freed under the comparison.
            try {
                if (node.alive()) {
                    return tryToMergeWithKsmPage(item, node.page()) == 0 ? 1 : 0;
                }
            } finally {
                node.page().put();
            }
        }
        Item other = unstable.remove(contents);
        if (other == null) {
            unstable.put(contents, item);
            return 0;
        }
        // try_to_merge_two_pages: the tree page becomes the KSM page, then this one joins it.
        if (tryToMergeWithKsmPage(other, null) != 0) {
            unstable.put(contents, item);
            return 0;
        }
        synchronized (ksm) {
            ksm.stable.put(contents, new StableNode(other.page(), other.page().generation()));
        }
        if (tryToMergeWithKsmPage(item, other.page()) != 0) {
            return 0;
        }
        return 1;
    }

    /**
     * {@code try_to_merge_with_ksm_page}: under the item's mm's mmap lock for read, the VMA
     * re-checked, then {@link #tryToMergeOnePage}. {@code kpage == null} makes the item's page
     * a KSM page.
     */
    private static int tryToMergeWithKsmPage(Item item, Page kpage) {
        MmStruct mm = item.mm();
        mm.mmapReadLock();
        try {
            Vma vma = mm.vmas("ksm_merge").vmaLookup(item.addr());
            if (vma == null || !vma.hasAny(VmFlags.VM_MERGEABLE)) {
                return -Errno.EFAULT;
            }
            return tryToMergeOnePage(mm, item.addr(), item.page(), kpage);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** {@code try_to_merge_one_page}: folio trylock, write-protect, then mark or replace. */
    private static int tryToMergeOnePage(MmStruct mm, long addr, Page page, Page kpage) {
        if (page == kpage || !page.isAnon()) {
            return -Errno.EFAULT;
        }
        if (!page.trylock()) {
            return -Errno.EFAULT;
        }
        Kernel k = mm.kernel();
        Rmap.folioLockHeld(k);
        try {
            long orig = writeProtectPage(mm, addr, page);
            if (orig == 0) {
                return -Errno.EFAULT;
            }
            if (kpage == null) {
                page.setFlag(PG_KSM);
                return 0;
            }
            if (!Contents.of(page).equals(Contents.of(kpage)) || !kpage.testFlag(PG_KSM)) {
                return -Errno.EFAULT;
            }
            return replacePage(mm, addr, page, kpage, orig);
        } finally {
            Rmap.folioLockReleased(k);
            page.unlock();
        }
    }

    /**
     * {@code write_protect_page}: one CLEAR invalidation of the page around making its entry
     * read-only and clean (its dirtiness moved to the page). Refused (0) if the entry no longer
     * maps the page or the page has references beyond its mapping and the scan's.
     *
     * @return the entry now in place, or 0
     */
    private static long writeProtectPage(MmStruct mm, long addr, Page page) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, addr,
                addr + Pte.PAGE_SIZE);
        range.invalidateRangeStart();
        long result = 0;
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("write_protect_page");
            long pte = pt.get(addr);
            if (Pte.isPresent(pte) && !Pte.isHuge(pte) && Pte.pfn(pte) == page.pfn()) {
                result = pte;
                if (Pte.isWrite(pte) || Pte.isDirty(pte)) {
                    if (page.mapcount() + 1 != page.refcount()) {
                        result = 0;
                    } else {
                        if (Pte.isDirty(pte)) {
                            page.setFlag(Page.PG_DIRTY);
                        }
                        result = Pte.wrprotect(Pte.mkClean(pte));
                        pt.set(addr, result);
                    }
                }
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
        return result;
    }

    /**
     * {@code replace_page}: one CLEAR invalidation of the page around pointing its entry
     * (still {@code orig}) at {@code kpage}, read-only; the old page loses the mapping and its
     * reference.
     */
    private static int replacePage(MmStruct mm, long addr, Page page, Page kpage, long orig) {
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, addr,
                addr + Pte.PAGE_SIZE);
        range.invalidateRangeStart();
        int err = -Errno.EFAULT;
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("replace_page");
            if (pt.get(addr) == orig) {
                kpage.get();
                kpage.incMapcount();
                pt.set(addr, Pte.mkPresent(kpage.pfn(), false));
                page.decMapcount();
                page.put();
                err = 0;
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
        return err;
    }
}
