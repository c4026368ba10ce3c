package hmm4j.drivers.dmirror;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_ERROR;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_NONE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_PMD;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_PUD;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_WRITE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_ZERO;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_ERROR;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_VALID;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_WRITE;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.migrate.ZoneDevice;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.Kernel;
import java.util.Arrays;

/**
 * SNAPSHOT (lib/test_hmm.c): {@code dmirror_snapshot},
 * {@code dmirror_range_snapshot} and {@code dmirror_mkentry}. A read-only probe of the CPU page
 * table: per chunk of {@link DmirrorFault#DMIRROR_FAULT_CHUNK} pages, a temporary interval
 * subscription on exactly that chunk, the collision-retry loop with no fault requested, one
 * byte per page encoded under the mirror's mutex, the subscription removed, the bytes copied
 * to the user buffer.
 *
 * <p>The temporary subscription lives in a {@link DmirrorInterval} ({@code struct
 * dmirror_interval}) owned by the call: inserted and removed within it, then freed, so no
 * lookup of subscriptions is ever needed (the design S4 ends with). Its callback only bumps
 * the sequence: any change inside the window spoils the whole snapshot.
 *
 * <p>Pages above the user address space (which the model's page walker does not accept) read
 * as ERROR, as the kernel's walker reports addresses without a VMA.
 */
final class DmirrorSnapshot {

    private DmirrorSnapshot() {
    }

    /** {@code struct dmirror_interval}: the temporary subscription of one snapshot chunk and its mirror. */
    static final class DmirrorInterval extends KObject {
        final MmuIntervalNotifier notifier;
        final Dmirror dmirror;

        DmirrorInterval(Dmirror dmirror) {
            super(dmirror.kernel(), dmirror.name() + "->snapshot interval");
            this.dmirror = dmirror;
            this.notifier = new MmuIntervalNotifier(this, dmirror.name() + "->snapshot notifier");
        }
    }

    /** {@code dmirror_snapshot}. */
    static int dmirrorSnapshot(Dmirror dmirror, HmmDmirrorCmd cmd) {
        Kernel k = dmirror.kernel();
        long start = cmd.addr;
        long end = start + (cmd.npages << Pte.PAGE_SHIFT);
        MmStruct mm = dmirror.mm();
        if (!mm.mmgetNotZero()) {
            return -Errno.EINVAL;
        }
        int ret = 0;
        long uptr = cmd.ptr;
        try {
            for (long addr = start; Long.compareUnsigned(addr, end) < 0; ) {
                long next = Long.compareUnsigned(end - addr, (long) DmirrorFault.DMIRROR_FAULT_CHUNK << Pte.PAGE_SHIFT) > 0
                        ? addr + ((long) DmirrorFault.DMIRROR_FAULT_CHUNK << Pte.PAGE_SHIFT) : end;
                byte[] perm = new byte[(int) ((next - addr) >>> Pte.PAGE_SHIFT)];
                ret = dmirrorRangeSnapshot(dmirror, addr, next, perm);
                if (ret != 0) {
                    break;
                }
                if (UserAccess.copyToUser(k, uptr, perm) != 0) {
                    ret = -Errno.EFAULT;
                    break;
                }
                cmd.cpages += perm.length;
                uptr += perm.length;
                addr = next;
            }
        } finally {
            mm.mmput();
        }
        return ret;
    }

    /** {@code dmirror_range_snapshot}: the bytes of [start, end) into {@code perm}; 0 or {@code -EBUSY}. */
    static int dmirrorRangeSnapshot(Dmirror dmirror, long start, long end, byte[] perm) {
        long userEnd = Long.compareUnsigned(end, Pte.TASK_SIZE) > 0 ? Math.max(start, Pte.TASK_SIZE) : end;
        if (Long.compareUnsigned(start, Pte.TASK_SIZE) >= 0) {
            Arrays.fill(perm, HMM_DMIRROR_PROT_ERROR);
            return 0;
        }
        Kernel k = dmirror.kernel();
        MmStruct mm = dmirror.mm();
        DmirrorInterval interval = new DmirrorInterval(dmirror);
        int ret = interval.notifier.mmuIntervalNotifierInsert(mm, start, userEnd - start,
                dmirror::dmirrorSnapshotInvalidate);
        if (ret != 0) {
            interval.kfree();
            return ret;
        }
        long[] pfns = new long[(int) ((userEnd - start) >>> Pte.PAGE_SHIFT)];
        HmmRange range = new HmmRange(interval.notifier, start, userEnd, pfns, 0, 0, dmirror.mdevice());
        long deadline = k.runtime().nanoTime() + DmirrorFault.HMM_RANGE_DEFAULT_TIMEOUT_NANOS;
        try {
            while (true) {
                if (k.runtime().nanoTime() - deadline > 0) {
                    return -Errno.EBUSY;
                }
                range.setNotifierSeq(interval.notifier.mmuIntervalReadBegin());
                mm.mmapReadLock();
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
                dmirror.mutex().lock();
                if (interval.notifier.mmuIntervalReadRetry(range.notifierSeq())) {
                    dmirror.mutex().unlock();
                    continue;
                }
                break;
            }
            try {
                PhysMem phys = PhysMem.of(k);
                for (int i = 0; i < perm.length; i++) {
                    perm[i] = i < pfns.length ? dmirrorMkentry(dmirror.mdevice(), phys, pfns[i]) : HMM_DMIRROR_PROT_ERROR;
                }
            } finally {
                dmirror.mutex().unlock();
            }
            return 0;
        } finally {
            interval.notifier.mmuIntervalNotifierRemove();
            interval.kfree();
        }
    }

    /** {@code dmirror_mkentry}: the snapshot byte of one {@code hmm_range_fault} output. */
    static byte dmirrorMkentry(DmirrorDevice mdevice, PhysMem phys, long entry) {
        if ((entry & HMM_PFN_ERROR) != 0) {
            return HMM_DMIRROR_PROT_ERROR;
        }
        if ((entry & HMM_PFN_VALID) == 0) {
            return HMM_DMIRROR_PROT_NONE;
        }
        Page page = HmmPfn.hmmPfnToPage(phys, entry);
        int perm;
        if (page.isDevicePrivate()) {
            perm = page.devicePrivateOwner() == mdevice ? HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL
                    : HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
        } else if (ZoneDevice.isDeviceCoherentPage(page)) {
            perm = page.pgmap().owner() == mdevice ? HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL
                    : HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE;
        } else if (page.isZeroPage()) {
            perm = HMM_DMIRROR_PROT_ZERO;
        } else {
            perm = HMM_DMIRROR_PROT_NONE;
        }
        perm |= (entry & HMM_PFN_WRITE) != 0 ? HMM_DMIRROR_PROT_WRITE : HMM_DMIRROR_PROT_READ;
        int order = HmmPfn.hmmPfnToMapOrder(entry);
        if (order == Pte.PMD_SHIFT - Pte.PAGE_SHIFT) {
            perm |= HMM_DMIRROR_PROT_PMD;
        } else if (order == Pte.PUD_SHIFT - Pte.PAGE_SHIFT) {
            perm |= HMM_DMIRROR_PROT_PUD;
        }
        return (byte) perm;
    }
}
