package hmm4j.drivers.dmirror;

import static hmm4j.drivers.dmirror.DmirrorProtocol.COMMIT_WITHOUT_MUTEX;
import static hmm4j.drivers.dmirror.DmirrorProtocol.RETRY_BEFORE_MUTEX;
import static hmm4j.drivers.dmirror.DmirrorProtocol.WRITE_TAG_FROM_READONLY;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_ERROR;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_VALID;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_WRITE;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;

/**
 * The mirror fault path of READ and WRITE (lib/test_hmm.c; the collision-retry loop of
 * Documentation/mm/hmm.rst):
 * {@code dmirror_fault}, {@code dmirror_range_fault}, {@code dmirror_do_fault}.
 *
 * <p>Overview. {@link #dmirrorFault} pins the mirror's address space and walks the range in
 * chunks of {@link #DMIRROR_FAULT_CHUNK} pages. Each chunk is an {@link HmmRange} on the
 * mirror's whole-space subscription, requesting a fault of every page (plus write), with
 * {@code pfn_flags_mask} 0 and the device as {@code dev_private_owner}, so the device's own
 * pages come back as device pfns. {@link #dmirrorRangeFault} runs the collision-retry loop:
 * {@code read_begin}, {@code hmm_range_fault} under the mmap read lock, retry on
 * {@code -EBUSY}, then the mutex, {@code read_retry} (retry if true) and the commit under the
 * mutex, before a deadline of {@link #HMM_RANGE_DEFAULT_TIMEOUT_NANOS} of the kernel's time
 * (virtual time in the controlled runtime; never the wall clock).
 *
 * <p>Locking. The mmap lock and the mutex are never held together here; read_begin comes
 * before the mmap lock and the mutex after it. The commit is checked by the validator while
 * the mutex is still held.
 *
 * <p>Quirk Q1 (decided). lib/test_hmm.c answers 0 when the address space is already dead
 * ({@code mmget_not_zero} fails), and READ/WRITE then loop for ever (the copy finds nothing,
 * the "fault" succeeds, repeat). The model answers {@code -EFAULT}, as the collision-retry
 * pattern of Documentation/mm/hmm.rst does: READ and WRITE on a mirror whose address space is
 * gone fail with {@code -EFAULT} after one round.
 *
 * <p>The protocol mutants {@code COMMIT_WITHOUT_MUTEX}, {@code RETRY_BEFORE_MUTEX} and
 * {@code WRITE_TAG_FROM_READONLY} change this class at exactly those points.
 */
final class DmirrorFault {
    /** Pages per {@code hmm_range} of the fault path and of SNAPSHOT. */
    static final int DMIRROR_FAULT_CHUNK = 64;
    /** {@code HMM_RANGE_DEFAULT_TIMEOUT}: 1000 ms. */
    static final long HMM_RANGE_DEFAULT_TIMEOUT_NANOS = 1_000_000_000L;

    private DmirrorFault() {
    }

    /**
     * {@code dmirror_fault}: faults [start, end) of the mirror's address space into its table
     * (read, or write if {@code write}). Process context; may sleep; no lock of the mirror held.
     *
     * @return 0; {@code -EFAULT} (no VMA, no read permission, a dead address space: Q1);
     *         {@code -EPERM} (write to a read-only VMA); {@code -EBUSY} (deadline passed)
     */
    static int dmirrorFault(Dmirror dmirror, long start, long end, boolean write) {
        MmStruct mm = dmirror.mm();
        if (!mm.mmgetNotZero()) {
            dmirror.kernel().mark(DmirrorDevice.FAULT_DEAD_MM);
            return -Errno.EFAULT;
        }
        int ret = 0;
        try {
            for (long addr = start; Long.compareUnsigned(addr, end) < 0; ) {
                long next = Long.compareUnsigned(end - addr, (long) DMIRROR_FAULT_CHUNK << Pte.PAGE_SHIFT) > 0
                        ? addr + ((long) DMIRROR_FAULT_CHUNK << Pte.PAGE_SHIFT) : end;
                if (Long.compareUnsigned(next, Pte.TASK_SIZE) > 0) {
                    ret = -Errno.EFAULT;
                    break;
                }
                long[] pfns = new long[(int) ((next - addr) >>> Pte.PAGE_SHIFT)];
                HmmRange range = new HmmRange(dmirror.notifier(), addr, next, pfns,
                        HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0), 0, dmirror.mdevice());
                ret = dmirrorRangeFault(dmirror, range);
                if (ret != 0) {
                    break;
                }
                addr = next;
            }
        } finally {
            mm.mmput();
        }
        return ret;
    }

    /** {@code dmirror_range_fault}: the collision-retry loop of one range, then the commit under the mutex. */
    static int dmirrorRangeFault(Dmirror dmirror, HmmRange range) {
        Kernel k = dmirror.kernel();
        MmStruct mm = dmirror.mm();
        MmuIntervalNotifier sub = range.notifier();
        DmirrorProtocol protocol = dmirror.mdevice().protocol();
        long deadline = k.runtime().nanoTime() + HMM_RANGE_DEFAULT_TIMEOUT_NANOS;
        while (true) {
            if (k.runtime().nanoTime() - deadline > 0) {
                return -Errno.EBUSY;
            }
            range.setNotifierSeq(sub.mmuIntervalReadBegin());
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
            if (protocol == COMMIT_WITHOUT_MUTEX) {
                if (sub.mmuIntervalReadRetry(range.notifierSeq())) {
                    continue;
                }
                ret = dmirrorDoFault(dmirror, range);
                DmirrorValidator.checkTable(dmirror, "after a fault commit");
                return ret;
            }
            if (protocol == RETRY_BEFORE_MUTEX) {
                if (sub.mmuIntervalReadRetry(range.notifierSeq())) {
                    continue;
                }
                dmirror.mutex().lock();
            } else {
                dmirror.mutex().lock();
                if (sub.mmuIntervalReadRetry(range.notifierSeq())) {
                    dmirror.mutex().unlock();
                    continue;
                }
            }
            try {
                ret = dmirrorDoFault(dmirror, range);
                DmirrorValidator.checkTable(dmirror, "after a fault commit");
            } finally {
                dmirror.mutex().unlock();
            }
            return ret;
        }
    }

    /**
     * {@code dmirror_do_fault}: stores every page of the range's outputs, tagged WRITE if the
     * pfn is writable. The driver's three WARN_ONs are the {@code hmm_range_fault} contract
     * (rule hmm.range-fault-meets-request) and are reported with it: an output that is ERROR
     * or not VALID after a successful fault, and a write request answered with a read-only
     * pfn, which the driver also refuses with {@code -EFAULT} (lib/test_hmm.c:
     * {@code else if (WARN_ON(default_flags & HMM_PFN_WRITE)) return -EFAULT}). For the first
     * two the kernel's driver goes on after its WARN; the model stops there with
     * {@code -EFAULT} rather than mirror a page it was not given.
     */
    static int dmirrorDoFault(Dmirror dmirror, HmmRange range) {
        Kernel k = dmirror.kernel();
        PhysMem phys = PhysMem.of(k);
        DmirrorPageTable pt = dmirror.pt();
        boolean writeTagAlways = dmirror.mdevice().protocol() == WRITE_TAG_FROM_READONLY;
        long[] pfns = range.hmmPfns();
        long vpn = range.start() >>> Pte.PAGE_SHIFT;
        for (int i = 0; i < pfns.length; i++, vpn++) {
            long pfn = pfns[i];
            if ((pfn & HMM_PFN_ERROR) != 0 || (pfn & HMM_PFN_VALID) == 0) {
                k.report(new Failure.InvariantViolation(KernelRules.RANGE_FAULT_MEETS_REQUEST,
                        "page 0x" + Long.toHexString(vpn << Pte.PAGE_SHIFT) + " of " + range + " came back as "
                                + HmmPfn.toString(pfn), k.site()));
                return -Errno.EFAULT;
            }
            Page page = HmmPfn.hmmPfnToPage(phys, pfn);
            int tag;
            if ((pfn & HMM_PFN_WRITE) != 0 || writeTagAlways) {
                tag = DmirrorPageTable.DPT_XA_TAG_WRITE;
            } else if ((range.defaultFlags() & HMM_PFN_REQ_WRITE) != 0) {
                k.report(new Failure.InvariantViolation(KernelRules.RANGE_FAULT_MEETS_REQUEST,
                        "WARN_ON(range->default_flags & HMM_PFN_WRITE): page 0x" + Long.toHexString(vpn << Pte.PAGE_SHIFT)
                                + " of " + range + " was asked for writing and came back as " + HmmPfn.toString(pfn),
                        k.site()));
                return -Errno.EFAULT;
            } else {
                tag = DmirrorPageTable.DPT_XA_TAG_RO;
            }
            pt.store(vpn, page, tag);
        }
        return 0;
    }
}
