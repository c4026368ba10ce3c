package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.Pte.PAGE_SHIFT;
import static hmm4j.kernel.mm.Pte.PAGE_SIZE;
import static hmm4j.kernel.mm.Pte.PMD_MASK;
import static hmm4j.kernel.mm.Pte.PMD_SIZE;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_ERROR;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_INOUT_FLAGS;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_VALID;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.MigrationEntryWait;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.sim.sync.SpinLock;

/**
 * {@code struct hmm_vma_walk} with the page-walk callbacks of mm/hmm.c: one walk of
 * [{@code last}, {@code end}) of a {@link HmmRange}, VMA by VMA and PTE table by PTE table,
 * writing outputs as it goes ({@code hmm_vma_walk_pmd}, {@code hmm_vma_handle_pte} in mm/hmm.c).
 *
 * <p>Overview. {@link #walkPageRange} follows the generic walker ({@code walk_page_range}):
 * gaps between VMAs are holes without a VMA; each VMA first goes through the test hook
 * ({@code hmm_vma_walk_test}: VM_IO, VM_PFNMAP or no VM_READ make the VMA unusable), then
 * through its PMD-sized chunks. A chunk without a PTE table is a hole inside the VMA
 * ({@code hmm_vma_walk_hole}); a chunk with one is scanned entry by entry
 * ({@code hmm_vma_handle_pte}) under the page-table lock. The first page that needs a fault
 * sets {@link #last}, the lock is dropped, and every page from there to the end of the chunk
 * is faulted ({@code hmm_vma_fault}); the walk then answers the internal {@code -EBUSY} and
 * the caller restarts it at {@code last}. Entries below {@code last} therefore hold outputs
 * and entries at or above it still hold their inputs whenever the walk restarts.
 *
 * <p>Device memory. A device-private entry whose pgmap owner is the range's
 * {@code dev_private_owner} is reported as it is and never faulted. A requested page behind
 * another owner's device-private entry, or behind a device-exclusive entry, is faulted like a
 * missing one: the fault handler calls that pgmap's {@code migrate_to_ram}, or restores the
 * exclusive entry, each under an invalidation (MIGRATE owned by the other device; CLEAR
 * without owner), so the caller usually sees {@code -EBUSY} once and then the system page.
 *
 * <p>Cost. Nothing is allocated per page or per table: entries are read from the table array
 * by index, requests and outputs are plain {@code long} arithmetic on the caller's array, and
 * the per-entry decision returns an {@code int} code. The only scheduling points are the
 * page-table lock (one acquisition per PMD-sized chunk) and the faults.
 *
 * <p>Locking. The caller holds the mmap lock (read is enough) and an {@code mm_users} pin,
 * both checked by {@link Hmm#hmmRangeFault}. Faults and migration waits run with the mmap
 * lock held and the page-table lock dropped.
 *
 * <p>Differences from the kernel.
 * <ul>
 *   <li>The kernel reads PTEs locklessly ({@code pte_offset_map}); the model takes the
 *       page-table lock around the scan of one table, which the {@link PageTable} contract
 *       asks for and which is one atomic step either way.</li>
 *   <li>The model's page table tells only whether the PTE table of an address exists, not
 *       which level is missing: an absent PGD/PUD/PMD entry is handled as a hole one
 *       PMD-sized chunk at a time (the kernel handles the whole span of the missing level at
 *       once). Outputs are the same; a fault covers at most one chunk, so pages after it
 *       are faulted only if they need it.</li>
 *   <li>PMD leaves (anonymous THP, hugetlb pages) are handled as {@code hmm_vma_handle_pmd}
 *       does: every page of the leaf in the range gets {@code pfn + index} with the leaf's
 *       VALID/WRITE and map order 9, or the range is faulted if it needs it; a PROT_NONE leaf
 *       gives the pfns without VALID. A device THP's device-private PMD and a PMD migration
 *       entry as {@code hmm_vma_handle_absent_pmd} and {@code is_pmd_migration_entry} do
 *       (the absent PMD's pfns start at {@code head + index}, see docs/kernel-mapping.md).
 *       A 1 GiB hugetlb page is 512 PMD leaves in a VMA whose hstate says order 18, and its
 *       outputs have map order 18. Every other output has order 0.</li>
 *   <li>"None-mostly" markers (uffd-wp) and hwpoison entries do not exist in the model's
 *       {@link Pte} encoding; the "other non-swap entry → -EFAULT" branch is kept for any
 *       entry type added later.</li>
 * </ul>
 */
final class HmmVmaWalk {
    /** {@code HMM_NEED_FAULT}: some page needs a fault. */
    static final int HMM_NEED_FAULT = 1;
    /** {@code HMM_NEED_WRITE_FAULT}: some page needs a write fault. */
    static final int HMM_NEED_WRITE_FAULT = 2;
    /** {@code HMM_NEED_ALL_BITS}: nothing more can be learned from further pages. */
    static final int HMM_NEED_ALL_BITS = HMM_NEED_FAULT | HMM_NEED_WRITE_FAULT;
    /** Per-entry code: a migration entry needs waiting for (page-walk internal). */
    private static final int NEED_MIGRATION_WAIT = 4;
    /** The result of a walk that must be restarted at {@link #last}. */
    static final int RESTART = -Errno.EBUSY;
    /** {@code hmm_pfn_flags_order(PMD_SHIFT - PAGE_SHIFT)}. */
    private static final long PMD_ORDER_FLAGS = HmmPfn.hmmPfnFlagsOrder(Pte.PMD_SHIFT - PAGE_SHIFT);
    /** {@code hmm_pfn_flags_order(huge_page_order(h))} of a 1 GiB hugetlb page: order 18. */
    private static final long PUD_ORDER_FLAGS = HmmPfn.hmmPfnFlagsOrder(Pte.PUD_SHIFT - PAGE_SHIFT);

    private final MmStruct mm;
    private final PageTable pt;
    private final SpinLock ptl;
    private final PhysMem phys;
    private final long[] pfns;
    private final long rangeStart;
    private final long defaultFlags;
    private final long pfnFlagsMask;
    private final boolean mayFault;
    private final Object devPrivateOwner;
    private long last;

    /**
     * A walk of {@code range} in {@code mm}; gets the page table through the pin rule
     * ({@code op} names the caller in the report).
     */
    HmmVmaWalk(HmmRange range, MmStruct mm, String op) {
        this.mm = mm;
        this.pt = mm.pgd(op);
        this.ptl = mm.pageTableLock();
        this.phys = PhysMem.of(mm.kernel());
        this.pfns = range.hmmPfns();
        this.rangeStart = range.start();
        this.defaultFlags = range.defaultFlags();
        this.pfnFlagsMask = range.pfnFlagsMask();
        this.mayFault = ((defaultFlags | pfnFlagsMask) & HMM_PFN_REQ_FAULT) != 0;
        this.devPrivateOwner = range.devPrivateOwner();
        this.last = range.start();
    }

    /** {@code hmm_vma_walk->last}: where the next walk starts. */
    long last() {
        return last;
    }

    // ---- need-fault (hmm_pte_need_fault) ----

    /**
     * {@code hmm_pte_need_fault}: whether the page whose entry is {@code entry}, currently
     * mapped with {@code cpuFlags} (a subset of VALID | WRITE), must be faulted, and how.
     */
    int pteNeedFault(long entry, long cpuFlags) {
        if (!mayFault) {
            return 0;
        }
        long req = (entry & pfnFlagsMask) | defaultFlags;
        if ((req & HMM_PFN_REQ_FAULT) == 0) {
            return 0;
        }
        if ((req & HMM_PFN_REQ_WRITE) != 0 && (cpuFlags & HMM_PFN_WRITE) == 0) {
            return HMM_NEED_FAULT | HMM_NEED_WRITE_FAULT;
        }
        return (cpuFlags & HMM_PFN_VALID) == 0 ? HMM_NEED_FAULT : 0;
    }

    /**
     * {@code hmm_range_need_fault}: the OR of {@link #pteNeedFault} over {@code n} entries
     * from index {@code from}, stopping as soon as both bits are set.
     */
    int rangeNeedFault(int from, int n, long cpuFlags) {
        if (!mayFault) {
            return 0;
        }
        int required = 0;
        for (int i = from, to = from + n; i < to; i++) {
            required |= pteNeedFault(pfns[i], cpuFlags);
            if (required == HMM_NEED_ALL_BITS) {
                break;
            }
        }
        return required;
    }

    // ---- the walk ----

    /**
     * {@code walk_page_range(mm, from, end, &hmm_walk_ops, walk)}: 0, {@link #RESTART}
     * (restart at {@link #last}), {@code -EFAULT}, {@code -EPERM}, or {@code -EINVAL} for an
     * empty range.
     */
    int walkPageRange(long from, long end) {
        if (from >= end) {
            return -Errno.EINVAL;
        }
        long addr = from;
        while (addr < end) {
            Vma vma = mm.findVma(addr);
            int ret;
            long next;
            if (vma == null || vma.vmStart() >= end) {
                next = end;
                ret = walkHole(addr, next, null);
            } else if (addr < vma.vmStart()) {
                next = vma.vmStart();
                ret = walkHole(addr, next, null);
            } else {
                next = Math.min(end, vma.vmEnd());
                ret = walkVma(vma, addr, next);
            }
            if (ret != 0) {
                return ret;
            }
            addr = next;
        }
        return 0;
    }

    /** One VMA piece: the test hook, then its PMD-sized chunks. */
    private int walkVma(Vma vma, long addr, long end) {
        if (vma.hasAny(VmFlags.VM_IO | VmFlags.VM_PFNMAP) || !vma.hasAny(VmFlags.VM_READ)) {
            // hmm_vma_walk_test: an unusable VMA fails a request, else reads as ERROR.
            int i = index(addr);
            int n = pages(addr, end);
            if (rangeNeedFault(i, n, 0) != 0) {
                return -Errno.EFAULT;
            }
            fill(i, n, HMM_PFN_ERROR);
            return 0;
        }
        while (addr < end) {
            long next = Math.min((addr + PMD_SIZE) & PMD_MASK, end);
            int ret = walkPteChunk(vma, addr, next);
            if (ret != 0) {
                return ret;
            }
            addr = next;
        }
        return 0;
    }

    /**
     * {@code hmm_vma_walk_hole}: [addr, end) has no page table ({@code vma != null}) or no
     * VMA at all ({@code vma == null}).
     */
    private int walkHole(long addr, long end, Vma vma) {
        int i = index(addr);
        int n = pages(addr, end);
        int required = rangeNeedFault(i, n, 0);
        if (vma == null) {
            if (required != 0) {
                return -Errno.EFAULT;
            }
            fill(i, n, HMM_PFN_ERROR);
            return 0;
        }
        if (required != 0) {
            return fault(vma, addr, end, required);
        }
        fill(i, n, 0);
        return 0;
    }

    /** The part of {@code hmm_vma_walk_pmd} for a PMD that points to a PTE table (or to none). */
    private int walkPteChunk(Vma vma, long addr, long end) {
        ptl.lock();
        long[] table = pt.pteTableOrNull(addr);
        if (table == null) {
            ptl.unlock();
            return walkHole(addr, end, vma);
        }
        int first = index(addr);
        int n = pages(addr, end);
        int slot = Pte.pteIndex(addr);
        if (Pte.isHuge(table[slot])) {
            return handlePmd(vma, addr, end, table[0], first, n, slot);
        }
        int code = 0;
        int k = 0;
        try {
            for (; k < n; k++) {
                code = handlePte(table[slot + k], first + k);
                if (code != 0) {
                    break;
                }
            }
        } finally {
            ptl.unlock();
        }
        if (code == 0) {
            return 0;
        }
        if (code < 0) {
            return code;
        }
        long at = addr + ((long) k << PAGE_SHIFT);
        if (code == NEED_MIGRATION_WAIT) {
            last = at;
            MigrationEntryWait.migrationEntryWait(mm, at);
            return RESTART;
        }
        return fault(vma, at, end, code);
    }

    /**
     * {@code hmm_vma_handle_pmd} for the PMD leaf {@code pmd} over [addr, end) (pages
     * {@code first..first+n-1} of the output, page {@code slot} of the leaf), entered with the
     * page-table lock held; drops it.
     */
    private int handlePmd(Vma vma, long addr, long end, long pmd, int first, int n, int slot) {
        if (Pte.isMigration(pmd)) {
            // is_pmd_migration_entry: wait for it if a page is needed, else no pfn.
            if (rangeNeedFault(first, n, 0) != 0) {
                ptl.unlock();
                last = addr;
                MigrationEntryWait.migrationEntryWait(mm, addr);
                return RESTART;
            }
            fill(first, n, 0);
            ptl.unlock();
            return 0;
        }
        if (!Pte.isPresent(pmd)) {
            return handleAbsentPmd(vma, addr, end, pmd, first, n, slot);
        }
        // hmm_vma_walk_hugetlb_entry reports huge_page_order(hstate_vma(vma)): a 1 GiB page's
        // PMD-size parts each say order 18.
        long orderFlags = vma.hugePageShift() == Pte.PUD_SHIFT ? PUD_ORDER_FLAGS : PMD_ORDER_FLAGS;
        long cpuFlags = Pte.isProtNone(pmd) ? 0
                : HMM_PFN_VALID | (Pte.isWrite(pmd) ? HMM_PFN_WRITE : 0) | orderFlags;
        int required = rangeNeedFault(first, n, cpuFlags);
        if (required != 0) {
            ptl.unlock();
            return fault(vma, addr, end, required);
        }
        long pfn = Pte.pfn(pmd) + slot;
        for (int i = 0; i < n; i++) {
            pfns[first + i] = (pfns[first + i] & HMM_PFN_INOUT_FLAGS) | (pfn + i) | cpuFlags;
        }
        ptl.unlock();
        return 0;
    }

    /**
     * {@code hmm_vma_handle_absent_pmd}: the device-private PMD entry of a device THP. Owned
     * by the range's owner, every page is reported VALID (WRITE if the entry is writable) with
     * map order 9 and no fault; otherwise a needed fault migrates it back (the fault handler's
     * {@code migrate_to_ram}), and without one the pages read as {@code HMM_PFN_ERROR}.
     * Entered with the page-table lock held; drops it.
     */
    private int handleAbsentPmd(Vma vma, long addr, long end, long pmd, int first, int n, int slot) {
        if (Pte.isDevicePrivate(pmd) && isOwnedDevicePrivate(Pte.pfn(pmd))) {
            long cpuFlags = HMM_PFN_VALID | (Pte.isWrite(pmd) ? HMM_PFN_WRITE : 0) | PMD_ORDER_FLAGS;
            long pfn = Pte.pfn(pmd) + slot;
            for (int i = 0; i < n; i++) {
                pfns[first + i] = (pfns[first + i] & HMM_PFN_INOUT_FLAGS) | (pfn + i) | cpuFlags;
            }
            ptl.unlock();
            return 0;
        }
        int required = rangeNeedFault(first, n, 0);
        ptl.unlock();
        if (required != 0) {
            return Pte.isDevicePrivate(pmd) ? fault(vma, addr, end, required) : -Errno.EFAULT;
        }
        fill(first, n, HMM_PFN_ERROR);
        return 0;
    }

    /**
     * {@code hmm_vma_handle_pte} for the entry {@code pte} of page index {@code i}, under the
     * page-table lock: writes the output and returns 0, or returns the need-fault bits,
     * {@link #NEED_MIGRATION_WAIT} or {@code -EFAULT} without writing.
     */
    private int handlePte(long pte, int i) {
        long entry = pfns[i];
        if (Pte.isNone(pte)) {
            int required = pteNeedFault(entry, 0);
            if (required != 0) {
                return required;
            }
            pfns[i] = entry & HMM_PFN_INOUT_FLAGS;
            return 0;
        }
        if (!Pte.isPresent(pte)) {
            return handleNonPresent(pte, entry, i);
        }
        long cpuFlags = Pte.isProtNone(pte) ? 0 : HMM_PFN_VALID | (Pte.isWrite(pte) ? HMM_PFN_WRITE : 0);
        int required = pteNeedFault(entry, cpuFlags);
        if (required != 0) {
            return required;
        }
        if (Pte.isSpecial(pte) && !Pte.isZero(pte)) {
            // vm_normal_page() fails: no struct page behind this pfn.
            if (pteNeedFault(entry, 0) != 0) {
                return -Errno.EFAULT;
            }
            pfns[i] = (entry & HMM_PFN_INOUT_FLAGS) | HMM_PFN_ERROR;
            return 0;
        }
        pfns[i] = (entry & HMM_PFN_INOUT_FLAGS) | Pte.pfn(pte) | cpuFlags;
        return 0;
    }

    /** The non-present half of {@code hmm_vma_handle_pte}: swap, device and migration entries. */
    private int handleNonPresent(long pte, long entry, int i) {
        if (Pte.isDevicePrivate(pte) && isOwnedDevicePrivate(Pte.pfn(pte))) {
            long cpuFlags = HMM_PFN_VALID | (Pte.isWrite(pte) ? HMM_PFN_WRITE : 0);
            pfns[i] = (entry & HMM_PFN_INOUT_FLAGS) | Pte.pfn(pte) | cpuFlags;
            return 0;
        }
        int required = pteNeedFault(entry, 0);
        if (required == 0) {
            pfns[i] = entry & HMM_PFN_INOUT_FLAGS;
            return 0;
        }
        if (Pte.isSwap(pte) || Pte.isDevicePrivate(pte) || Pte.isDeviceExclusive(pte)) {
            return required;
        }
        if (Pte.isMigration(pte)) {
            return NEED_MIGRATION_WAIT;
        }
        return -Errno.EFAULT;
    }

    /** The device-private page's {@code pgmap->owner} is the range's owner (pointer equality). */
    private boolean isOwnedDevicePrivate(long pfn) {
        Page page = phys.pfnToPage(pfn);
        return page != null && devPrivateOwner != null && page.devicePrivateOwner() == devPrivateOwner;
    }

    /**
     * {@code hmm_vma_fault}: records {@code addr} as {@link #last} and faults every page of
     * [addr, end) with {@code FAULT_FLAG_REMOTE} (+ {@code FAULT_FLAG_WRITE}); the mmap lock
     * stays held. Returns {@link #RESTART}, {@code -EPERM} (write needed, VMA not writable)
     * or {@code -EFAULT} (the fault handler failed).
     */
    private int fault(Vma vma, long addr, long end, int required) {
        last = addr;
        int flags = Fault.FAULT_FLAG_REMOTE;
        if ((required & HMM_NEED_WRITE_FAULT) != 0) {
            if (!vma.hasAny(VmFlags.VM_WRITE)) {
                return -Errno.EPERM;
            }
            flags |= Fault.FAULT_FLAG_WRITE;
        }
        for (long a = addr; a < end; a += PAGE_SIZE) {
            if ((Fault.handleMmFault(mm, vma, a, flags) & Fault.VM_FAULT_ERROR) != 0) {
                return -Errno.EFAULT;
            }
        }
        return RESTART;
    }

    /** {@code hmm_pfns_fill}: outputs {@code value} for {@code n} entries, sticky bits kept. */
    private void fill(int from, int n, long value) {
        for (int i = from, to = from + n; i < to; i++) {
            pfns[i] = (pfns[i] & HMM_PFN_INOUT_FLAGS) | value;
        }
    }

    private int index(long addr) {
        return (int) ((addr - rangeStart) >>> PAGE_SHIFT);
    }

    private static int pages(long addr, long end) {
        return (int) ((end - addr) >>> PAGE_SHIFT);
    }
}
