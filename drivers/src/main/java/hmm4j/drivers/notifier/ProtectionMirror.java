package hmm4j.drivers.notifier;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.devmap.DeviceMap;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.Mutex;
import java.util.Set;

/**
 * A small mirroring driver, as a user would write one: one interval subscription over a
 * buffer, device entries filled by {@code hmm_range_fault} and committed under
 * {@code mirror->mutex} after {@code mmu_interval_read_retry}, and a device that writes through
 * its entries. It declares its table to the device-mapping checker
 * ({@link DeviceMap}): {@link DeviceMap#map} at each commit, {@link DeviceMap#unmapRange}
 * in the invalidate callback, {@link DeviceMap#access} before each device write.
 *
 * <p>In its wrong design the invalidate callback ignores protection events
 * ({@code MMU_NOTIFY_PROTECTION_PAGE}, {@code MMU_NOTIFY_PROTECTION_VMA}), reasoning that the
 * page stays mapped: so the writable device entry of a page that fork has just write-protected
 * for copy-on-write survives, and the device's next write lands in the page the child now
 * shares (the class of CVE-2020-29374, where a GUP-pinned page kept write access across
 * fork). The checker reports the entry at the end of fork's invalidation (rule
 * devmap.no-entry-survives-invalidation). The fixed design clears the range on every event.
 *
 * <p>Two more wrong designs of the same shape, each with its own reasoning ({@link Ignores}):
 * one ignores {@code MMU_NOTIFY_SOFT_DIRTY} ("only the dirty bit is cleared"), so the device's
 * writes through its writable entry escape a soft-dirty tracker after
 * {@code clear_refs} 4; one ignores {@code MMU_NOTIFY_CLEAR} ("only munmap and exit remove
 * pages"), so after compaction or KSM has moved the page the device entry names the freed
 * source page. The protection design also misses NUMA balancing's
 * {@code MMU_NOTIFY_PROTECTION_VMA} (hinting entries are prot-none).
 */
public final class ProtectionMirror {
    /** Coverage mark: the fixed driver cleared device entries for a protection event. */
    public static final Mark PROTECTION_CLEARED = Mark.of("driver.invalidate.protection-cleared",
            "A driver's invalidate cleared its device entries for a protection event (fork's COW write-protect, "
                    + "mprotect or NUMA hinting)");

    /** Coverage mark: the fixed driver cleared device entries for a soft-dirty event. */
    public static final Mark SOFT_DIRTY_CLEARED = Mark.of("driver.invalidate.soft-dirty-cleared",
            "A driver's invalidate cleared its device entries for MMU_NOTIFY_SOFT_DIRTY (clear_refs 4)");
    /** Coverage mark: the fixed driver cleared device entries for an {@code MMU_NOTIFY_CLEAR}. */
    public static final Mark CLEAR_CLEARED = Mark.of("driver.invalidate.clear-cleared",
            "A driver's invalidate cleared its device entries for MMU_NOTIFY_CLEAR (page migration, compaction, "
                    + "KSM merge)");

    /** Which events a wrong design ignores; its fixed design marks clearing for them. */
    public enum Ignores {
        /** {@code MMU_NOTIFY_PROTECTION_PAGE} and {@code MMU_NOTIFY_PROTECTION_VMA}. */
        PROTECTION(PROTECTION_CLEARED, MmuNotifierEvent.MMU_NOTIFY_PROTECTION_PAGE,
                MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA),
        /** {@code MMU_NOTIFY_SOFT_DIRTY}. */
        SOFT_DIRTY(SOFT_DIRTY_CLEARED, MmuNotifierEvent.MMU_NOTIFY_SOFT_DIRTY),
        /** {@code MMU_NOTIFY_CLEAR}. */
        CLEAR(CLEAR_CLEARED, MmuNotifierEvent.MMU_NOTIFY_CLEAR);

        private final Mark cleared;
        private final Set<MmuNotifierEvent> events;

        Ignores(Mark cleared, MmuNotifierEvent... events) {
            this.cleared = cleared;
            this.events = Set.of(events);
        }

        boolean covers(MmuNotifierEvent event) {
            return events.contains(event);
        }
    }

    private final Kernel kernel;
    private final MmStruct mm;
    private final Mutex mutex;
    private final MmuIntervalNotifier notifier;
    private final DeviceMap pt;
    private final boolean handlesProtection;
    private final Ignores design;

    private ProtectionMirror(Kernel kernel, MmStruct mm, long start, long length, Ignores design,
            boolean handlesProtection) {
        this.kernel = kernel;
        this.mm = mm;
        this.design = design;
        this.handlesProtection = handlesProtection;
        this.mutex = new Mutex(kernel, "mirror->mutex");
        this.pt = DeviceMap.create(mm, "mirror->pt", this);
        this.notifier = new MmuIntervalNotifier("mirror->notifier");
        int ret = notifier.mmuIntervalNotifierInsert(mm, start, length, (sub, range, curSeq) -> {
            if (!InvalidateLock.lockFor(mutex, range)) {
                return false;
            }
            sub.mmuIntervalSetSeq(curSeq);
            if (this.design.covers(range.event())) {
                if (this.handlesProtection) {
                    kernel.mark(this.design.cleared);
                    pt.unmapRange(range.start(), range.end());
                }
            } else {
                pt.unmapRange(range.start(), range.end());
            }
            mutex.unlock();
            return true;
        });
        if (ret != 0) {
            throw new IllegalStateException("mmu_interval_notifier_insert failed: " + ret);
        }
    }

    /** The wrong design: protection events are ignored. Process context. */
    public static ProtectionMirror ignoringProtection(Kernel kernel, MmStruct mm, long start, long length) {
        return new ProtectionMirror(kernel, mm, start, length, Ignores.PROTECTION, false);
    }

    /** The fixed design: every event clears the range. Process context. */
    public static ProtectionMirror handlingProtection(Kernel kernel, MmStruct mm, long start, long length) {
        return new ProtectionMirror(kernel, mm, start, length, Ignores.PROTECTION, true);
    }

    /**
     * The wrong design {@code design} ({@code handles} false) or its fix ({@code handles} true,
     * every event clears the range, and clearing for {@code design}'s events is marked).
     * Process context.
     */
    public static ProtectionMirror of(Kernel kernel, MmStruct mm, long start, long length, Ignores design,
            boolean handles) {
        return new ProtectionMirror(kernel, mm, start, length, design, handles);
    }

    /** The declared device table (for tests). */
    public DeviceMap deviceMap() {
        return pt;
    }

    /**
     * Faults the page at {@code addr} into the device (writable if {@code write}): the
     * {@code hmm_range_fault} loop of Documentation/mm/hmm.rst. May sleep.
     *
     * @return 0 or a negative errno
     */
    public int fault(long addr, boolean write) {
        long page = addr & Pte.PAGE_MASK;
        long[] pfns = new long[1];
        HmmRange range = new HmmRange(notifier, page, page + Pte.PAGE_SIZE, pfns,
                HmmPfn.HMM_PFN_REQ_FAULT | (write ? HmmPfn.HMM_PFN_REQ_WRITE : 0), 0, this);
        while (true) {
            range.setNotifierSeq(notifier.mmuIntervalReadBegin());
            mm.mmapReadLock();
            int ret;
            try {
                ret = Hmm.hmmRangeFault(range);
            } finally {
                mm.mmapReadUnlock();
            }
            if (ret == -Errno.EBUSY) {
                continue;
            }
            if (ret != 0) {
                return ret;
            }
            mutex.lock();
            try {
                if (notifier.mmuIntervalReadRetry(range.notifierSeq())) {
                    continue;
                }
                Page p = HmmPfn.hmmPfnToPage(PhysMem.of(kernel), pfns[0]);
                pt.map(page, p, (pfns[0] & HmmPfn.HMM_PFN_WRITE) != 0);
                return 0;
            } finally {
                mutex.unlock();
            }
        }
    }

    /**
     * The device writes {@code value} at {@code addr} through its entry, faulting it in
     * writable first if it has none. May sleep.
     *
     * @return 0 or a negative errno from the fault
     */
    public int deviceWrite(long addr, byte value) {
        while (true) {
            mutex.lock();
            try {
                DeviceMap.Entry e = pt.entry(addr & Pte.PAGE_MASK);
                if (e != null && e.writable()) {
                    pt.access(addr, true);
                    e.page().writeByte((int) (addr & ~Pte.PAGE_MASK), value);
                    return 0;
                }
            } finally {
                mutex.unlock();
            }
            int ret = fault(addr, true);
            if (ret != 0) {
                return ret;
            }
        }
    }

    /** Release: removes the subscription and destroys the device table. Process context. */
    public void release() {
        notifier.mmuIntervalNotifierRemove();
        mutex.lock();
        try {
            pt.close();
        } finally {
            mutex.unlock();
        }
    }
}
