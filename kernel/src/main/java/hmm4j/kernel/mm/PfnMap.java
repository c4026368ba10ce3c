package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;

/**
 * Raw pfn mappings a driver makes and removes (mm/memory.c): {@code remap_pfn_range} from
 * its {@code f_op->mmap}, and {@code zap_vma_ptes}, the driver-facing zap of part of such a
 * mapping (a device reclaiming its aperture, a doorbell page being revoked).
 *
 * <p>Overview: the entries are special ({@code pte_special}): no page behind them is counted
 * or mapped, so zapping them releases nothing. {@link #zapVmaPtes} is an invalidation like
 * any other: {@code MMU_NOTIFY_CLEAR} start, the entries cleared under the page-table lock,
 * end; so the mirrors of the range see it.
 *
 * <p>Locking: the caller of {@link #remapPfnRange} holds the mmap lock for write (it runs in
 * {@code f_op->mmap}); the caller of {@link #zapVmaPtes} holds it for read at least
 * (asserted), as the page tables it walks may otherwise go away.
 *
 * <p>Differences from the kernel: the model's {@link Vma} does not name its mm, so both take
 * it; the protection of the entries is the VMA's (writable in a shared writable mapping), not
 * a {@code pgprot_t}; a range already mapped is refused with {@code -EBUSY} where the kernel
 * has a {@code BUG_ON}; no {@code VM_DONTDUMP}, no PAT tracking.
 */
public final class PfnMap {
    /** Coverage mark: {@code zap_vma_ptes} was asked to zap a range it refuses (not VM_PFNMAP, or outside the VMA). */
    public static final Mark ZAP_REFUSED = Mark.of("mm.zap-vma-ptes.refused",
            "zap_vma_ptes was called on a VMA that is not VM_PFNMAP or a range outside it, and did nothing");

    private PfnMap() {
    }

    /**
     * {@code remap_pfn_range}: maps {@code size} bytes of raw pfns from {@code pfn} at
     * {@code addr} in {@code vma}, and marks the VMA {@code VM_IO | VM_PFNMAP | VM_DONTEXPAND}.
     * Called from the driver's {@code f_op->mmap} with the mmap write lock held (asserted).
     *
     * @return 0, {@code -EINVAL} for a range outside the VMA or unaligned, {@code -EBUSY} if
     *         an entry of the range is already in use
     */
    public static int remapPfnRange(MmStruct mm, Vma vma, long addr, long pfn, long size) {
        mm.mmapAssertWriteLocked();
        long end = addr + size;
        if (size <= 0 || !Pte.isPageAligned(addr) || !Pte.isPageAligned(size) || addr < vma.vmStart()
                || end > vma.vmEnd() || pfn <= 0) {
            return -Errno.EINVAL;
        }
        vma.setFlags(vma.flags() | VmFlags.VM_IO | VmFlags.VM_PFNMAP | VmFlags.VM_DONTEXPAND);
        boolean writable = vma.hasAny(VmFlags.VM_SHARED) && vma.hasAny(VmFlags.VM_WRITE);
        PageTable pt = mm.pgd("remap_pfn_range");
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            for (long a = addr; a < end; a += Pte.PAGE_SIZE) {
                if (!Pte.isNone(pt.get(a))) {
                    return -Errno.EBUSY;
                }
            }
            long p = pfn;
            for (long a = addr; a < end; a += Pte.PAGE_SIZE, p++) {
                pt.set(a, Pte.mkSpecial(Pte.mkPresent(p, writable)));
            }
        } finally {
            ptl.unlock();
        }
        return 0;
    }

    /**
     * {@code zap_vma_ptes}: removes the entries of [{@code address}, {@code address + size})
     * of a {@code VM_PFNMAP} VMA, with an {@code MMU_NOTIFY_CLEAR} invalidation around it. As
     * in the kernel, a VMA that is not {@code VM_PFNMAP} or a range not inside it is left
     * alone (mark {@link #ZAP_REFUSED}). The caller holds the mmap lock (asserted). May sleep
     * (the invalidation's callbacks).
     */
    public static void zapVmaPtes(MmStruct mm, Vma vma, long address, long size) {
        mm.mmapAssertLocked();
        long end = address + size;
        if (size <= 0 || address < vma.vmStart() || end > vma.vmEnd() || !vma.hasAny(VmFlags.VM_PFNMAP)) {
            mm.kernel().mark(ZAP_REFUSED);
            return;
        }
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, address, end);
        range.invalidateRangeStart();
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            Zap.zapRange(PhysMem.of(mm.kernel()), mm.pgd("zap_vma_ptes"), address, end);
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
    }
}
