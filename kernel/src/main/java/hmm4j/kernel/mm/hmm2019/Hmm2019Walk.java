package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P07;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.RC;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;

/**
 * {@code hmm_range_snapshot} and {@code hmm_range_fault} of v5.2/v5.3 (mm/hmm.c): fill a
 * registered range's pfns from the CPU page table, without faulting or faulting in what the
 * request bits ask for.
 *
 * <p>Context: the caller holds the mmap lock (v5.3 asserts it, P07) and, for the address
 * space, nothing in v5.2 but the unlocked {@code dead} test; v5.3's range holds an
 * {@code mm_users} reference. The VMA lookup and the walk apply the pin rule (I-H3, reported
 * as mm.pin), with named windows before {@code find_vma} and before the walk.
 *
 * <p>Return codes: the number of pages filled from {@code range.start()};
 * {@code -EAGAIN} for an invalid range in v5.2 (fault: with the mmap lock <em>dropped</em>);
 * {@code -EBUSY} for it from 5.2.10 and in v5.3 (RC: the lock still held); {@code -EFAULT}
 * (no VMA, a VM_IO/VM_PFNMAP/VM_MIXEDMAP VMA, a failed fault, a dead hmm in v5.2),
 * {@code -EINVAL} (a page shift other than PAGE_SHIFT), {@code -EPERM} (no VM_READ).
 *
 * <p>Differences from the kernel: no huge pages or hugetlb, no device-private entries, and
 * {@code handle_mm_fault} never returns {@code VM_FAULT_RETRY}, so the fault path's own
 * {@code -EAGAIN} does not occur.
 */
public final class Hmm2019Walk {
    /** Coverage mark: snapshot or fault found the range invalid at the top of its loop. */
    public static final Mark INVALID_AT_TOP = Mark.of("hmm2019.walk.invalid-at-top",
            "hmm_range_snapshot/fault found range->valid false at the top of its loop");

    private static final long DEVICE_VMA = VmFlags.VM_IO | VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP;

    private Hmm2019Walk() {
    }

    /** {@code hmm_range_snapshot}: never faults; pages not present read as {@link HmmRange2019#VALUE_NONE}. */
    public static long hmmRangeSnapshot(HmmRange2019 range) {
        return walk(range, false, true);
    }

    /** {@code hmm_range_fault(range, block)}: faults in what the request bits ask for. May sleep. */
    public static long hmmRangeFault(HmmRange2019 range, boolean block) {
        return walk(range, true, block);
    }

    private static long walk(HmmRange2019 range, boolean fault, boolean block) {
        String what = fault ? "hmm_range_fault" : "hmm_range_snapshot";
        Hmm2019 h = range.checkUse(what);
        if (h == null) {
            if (range.isRegistered() || !range.poisons()) {
                Kernel k = range.kernel();
                k.report(new Failure.InvariantViolation(Hmm2019Rules.NULL_HMM, what + " on " + range
                        + " whose range->hmm is NULL", k.site()));
            }
            return -Errno.EFAULT;
        }
        Hmm2019Config config = h.config();
        MmStruct mm = h.mm();
        Kernel k = mm.kernel();
        if (!config.has(P07)) {
            if (h.readDead()) {
                return -Errno.EFAULT;
            }
        } else {
            mm.mmapLock().assertHeld(what + ": lockdep_assert_held(mmap_sem)");
        }
        if (range.pageShift() != Pte.PAGE_SHIFT) {
            return -Errno.EINVAL;
        }
        long addr = range.start();
        do {
            if (!range.readValid()) {
                k.mark(INVALID_AT_TOP);
                if (config.has(RC)) {
                    return -Errno.EBUSY;
                }
                if (fault) {
                    mm.mmapReadUnlock();
                }
                return -Errno.EAGAIN;
            }
            k.point(range.beforeFindVma);
            Vma vma = mm.findVma(addr);
            if (vma == null || vma.hasAny(DEVICE_VMA)) {
                return -Errno.EFAULT;
            }
            if (vma.vmStart() > addr) {
                long holeEnd = Math.min(range.end(), vma.vmStart());
                long hole = hole(range, addr, holeEnd, fault);
                if (hole < 0) {
                    return hole;
                }
                addr = holeEnd;
                continue;
            }
            if (!vma.hasAny(VmFlags.VM_READ)) {
                range.clearFrom(range.start());
                return -Errno.EPERM;
            }
            range.setVma(vma);
            long end = Math.min(range.end(), vma.vmEnd());
            k.point(range.beforeWalk);
            long next = walkVma(range, mm, vma, addr, end, fault, block);
            if (next < 0) {
                return next;
            }
            if (next != end) {
                continue;
            }
            addr = end;
        } while (addr < range.end());
        return (addr - range.start()) >> Pte.PAGE_SHIFT;
    }

    /** A hole [addr, end) with no VMA: "none" pages, or {@code -EFAULT} if a fault was requested there. */
    private static long hole(HmmRange2019 range, long addr, long end, boolean fault) {
        long[] pfns = range.pfns();
        for (long a = addr; a < end; a += Pte.PAGE_SIZE) {
            int i = (int) ((a - range.start()) >> Pte.PAGE_SHIFT);
            long req = (pfns[i] & range.pfnFlagsMask()) | range.defaultFlags();
            if (fault && (req & HmmRange2019.FLAG_VALID) != 0) {
                pfns[i] = HmmRange2019.VALUE_ERROR;
                range.clearFrom(a + Pte.PAGE_SIZE);
                return -Errno.EFAULT;
            }
            pfns[i] = HmmRange2019.VALUE_NONE;
        }
        return end;
    }

    /**
     * Walks [addr, end) of one VMA: the address it stopped at (end when done; earlier when a
     * fault ran and the range became invalid, so the caller's loop decides), or an error.
     */
    private static long walkVma(HmmRange2019 range, MmStruct mm, Vma vma, long addr, long end, boolean fault,
            boolean block) {
        long[] pfns = range.pfns();
        while (addr < end) {
            int i = (int) ((addr - range.start()) >> Pte.PAGE_SHIFT);
            PageTable pt = mm.pgd(fault ? "hmm_range_fault walk" : "hmm_range_snapshot walk");
            SpinLock ptl = mm.pageTableLock();
            ptl.lock();
            long pte = pt.get(addr);
            ptl.unlock();
            long req = (pfns[i] & range.pfnFlagsMask()) | range.defaultFlags();
            boolean wantFault = fault && (req & HmmRange2019.FLAG_VALID) != 0;
            boolean wantWrite = wantFault && (req & HmmRange2019.FLAG_WRITE) != 0;
            boolean present = Pte.isPresent(pte) && Pte.hasPfn(pte);
            if (present && (!wantWrite || Pte.isWrite(pte))) {
                pfns[i] = (Pte.pfn(pte) << HmmRange2019.PFN_SHIFT) | HmmRange2019.FLAG_VALID
                        | (Pte.isWrite(pte) ? HmmRange2019.FLAG_WRITE : 0);
                addr += Pte.PAGE_SIZE;
                continue;
            }
            if (!wantFault) {
                pfns[i] = HmmRange2019.VALUE_NONE;
                addr += Pte.PAGE_SIZE;
                continue;
            }
            int flags = Fault.FAULT_FLAG_REMOTE | (wantWrite ? Fault.FAULT_FLAG_WRITE : 0);
            int r = Fault.handleMmFault(mm, vma, addr, flags);
            if ((r & Fault.VM_FAULT_ERROR) != 0) {
                pfns[i] = HmmRange2019.VALUE_ERROR;
                range.clearFrom(addr + Pte.PAGE_SIZE);
                return -Errno.EFAULT;
            }
            if (!range.readValid()) {
                return addr;
            }
        }
        return addr;
    }
}
