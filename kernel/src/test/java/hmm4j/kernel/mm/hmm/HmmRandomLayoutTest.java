package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.EBUSY;
import static hmm4j.kernel.mm.hmm.HmmBed.EFAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.EPERM;
import static hmm4j.kernel.mm.hmm.HmmBed.ERROR;
import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.RO;
import static hmm4j.kernel.mm.hmm.HmmBed.RW;
import static hmm4j.kernel.mm.hmm.HmmBed.VALID;
import static hmm4j.kernel.mm.hmm.HmmBed.WRITE;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_INOUT_FLAGS;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Invariant I-22 (and I-24) on random ranges over a random address-space layout, with fixed
 * seeds: VMAs of every kind with holes between them, entries of every kind the model has
 * (device-private ones put in place by migrating to a test device; migration entries aside:
 * nobody would end the migration), a whole PMD span without a
 * page table, random default flags, masks, per-page requests and sticky bits. Each call is
 * made the driver's way (refilling the array after {@code -EBUSY}); a successful one must
 * satisfy every request and agree with the CPU page table, a failed one must have a reason
 * in the range.
 */
class HmmRandomLayoutTest {

    private static final long[] VMA_FLAGS = {RW, RW, RW, RW, RW, RW, RO, RO, RO, VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE,
        RW | VmFlags.VM_IO, RW | VmFlags.VM_PFNMAP, VmFlags.VM_WRITE | VmFlags.VM_MAYWRITE};
    private static final long[] DEFAULTS = {0, 0, REQ_FAULT, REQ_FAULT | REQ_WRITE};
    private static final long[] MASKS = {0, REQ_FAULT, REQ_FAULT | REQ_WRITE, -1L};
    private static final long[] INPUTS = {0, 0, 0, REQ_FAULT, REQ_FAULT | REQ_WRITE, REQ_WRITE};
    private static final long[] STICKY = {0, HmmPfn.HMM_PFN_DMA_MAPPED, HmmPfn.HMM_PFN_P2PDMA | HmmPfn.HMM_PFN_P2PDMA_BUS};
    /** The layout region: 64 pages, a whole PMD span left without entries, 64 pages. */
    private static final long REGION = BASE + Pte.PMD_SIZE - 64 * PAGE;
    private static final int REGION_PAGES = 640;
    private static final long EMPTY_START = BASE + Pte.PMD_SIZE;
    private static final long EMPTY_END = BASE + 2 * Pte.PMD_SIZE;
    private static final int CALLS_PER_SEED = 40;

    private final Object gpu = new Object();
    private final Object otherGpu = new Object();
    private final int[] outcomes = new int[3];

    @Test
    void randomRanges_satisfyI22AndAgreeWithTheCpuPageTable() {
        for (long seed = 1; seed <= 16; seed++) {
            long s = seed;
            assertClean(HmmBed.run(checkedKernel(seed), bed -> exercise(bed, new SplittableRandom(s * 7919))));
        }
        int total = outcomes[0] + outcomes[1] + outcomes[2];
        assertEquals(16 * CALLS_PER_SEED, total);
        assertTrue(outcomes[0] >= total / 4, "enough successful calls to check I-22: " + Arrays.toString(outcomes));
        assertTrue(outcomes[1] > 0 && outcomes[2] > 0, "both errors were met: " + Arrays.toString(outcomes));
    }

    private void exercise(HmmBed bed, SplittableRandom rnd) {
        layOut(bed, rnd);
        for (int call = 0; call < CALLS_PER_SEED; call++) {
            int first = rnd.nextInt(REGION_PAGES);
            int pages = Math.min(1 + rnd.nextInt(64), REGION_PAGES - first);
            long start = REGION + first * PAGE;
            long def = DEFAULTS[rnd.nextInt(DEFAULTS.length)];
            long mask = MASKS[rnd.nextInt(MASKS.length)];
            Object owner = rnd.nextInt(3) == 0 ? null : gpu;
            long[] inputs = new long[pages];
            for (int i = 0; i < pages; i++) {
                inputs[i] = INPUTS[rnd.nextInt(INPUTS.length)] | STICKY[rnd.nextInt(STICKY.length)]
                        | (rnd.nextInt(4) == 0 ? rnd.nextLong(1L << 40) : 0);
            }
            long[] ptesBefore = ptes(bed, start, pages);
            HmmRange r = bed.range(start, pages, def, mask, owner, inputs);
            int ret = bed.faultUntilNotBusy(r, inputs);
            String what = "call " + call + " " + r;
            switch (ret) {
                case 0 -> {
                    outcomes[0]++;
                    checkSuccess(bed, r, inputs, ptesBefore, what);
                }
                case EFAULT -> {
                    outcomes[1]++;
                    assertTrue(efaultHasAReason(bed, r, inputs, ptesBefore), what + " -EFAULT without a reason");
                }
                case EPERM -> {
                    outcomes[2]++;
                    assertTrue(epermHasAReason(bed, r, inputs), what + " -EPERM without a reason");
                }
                case EBUSY -> fail(what + ": still -EBUSY after 8 attempts without concurrency");
                default -> fail(what + ": unexpected return " + ret);
            }
        }
    }

    /** VMAs with gaps over the region; entries everywhere but the empty PMD span. */
    private void layOut(HmmBed bed, SplittableRandom rnd) {
        long addr = REGION;
        long end = REGION + REGION_PAGES * PAGE;
        while (addr < end) {
            addr += (rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(3)) * PAGE;
            long pages = Math.min(1 + rnd.nextInt(48), (end - addr) / PAGE);
            if (pages <= 0) {
                break;
            }
            long flags = VMA_FLAGS[rnd.nextInt(VMA_FLAGS.length)];
            bed.vma(addr, pages, flags);
            for (long a = addr; a < addr + pages * PAGE; a += PAGE) {
                if (a < EMPTY_START || a >= EMPTY_END) {
                    entry(bed, rnd, a, flags);
                }
            }
            addr += pages * PAGE;
        }
    }

    private void entry(HmmBed bed, SplittableRandom rnd, long a, long flags) {
        boolean write = (flags & VmFlags.VM_WRITE) != 0 && rnd.nextBoolean();
        if ((flags & VmFlags.VM_ACCESS_FLAGS) == 0) {
            if (rnd.nextBoolean()) {
                bed.set(a, Pte.mkProtNone(Pte.mkPresent(bed.anonPage(a, false), false)));
            }
            return;
        }
        switch (rnd.nextInt(32)) {
            case 0, 1, 2, 3, 4, 5, 6, 7 -> { }
            case 8, 9, 10, 11, 12, 13 -> bed.anonPage(a, write);
            case 14, 15, 16 -> bed.sharedAnonPage(a);
            case 17, 18, 19, 20 -> bed.set(a, Pte.mkZero());
            case 21 -> bed.set(a, Pte.mkSpecial(Pte.mkPresent(0x7_0000 + (a >>> 12 & 0xfff), true)));
            case 22, 23, 24, 25 -> bed.swapEntry(a, (byte) a);
            case 26, 27, 28 -> bed.devicePrivate(a, gpu, write, (byte) a);
            case 29, 30 -> bed.devicePrivate(a, otherGpu, write, (byte) a);
            default -> bed.set(a, Pte.mkDeviceExclusive(bed.anonPage(a, write), write));
        }
    }

    private static long[] ptes(HmmBed bed, long start, int pages) {
        long[] ptes = new long[pages];
        for (int i = 0; i < pages; i++) {
            ptes[i] = bed.pte(start + i * PAGE);
        }
        return ptes;
    }

    private void checkSuccess(HmmBed bed, HmmRange r, long[] inputs, long[] before, String what) {
        long[] out = r.hmmPfns();
        for (int i = 0; i < out.length; i++) {
            long addr = r.start() + i * PAGE;
            long req = (inputs[i] & r.pfnFlagsMask()) | r.defaultFlags();
            long o = out[i];
            long pte = bed.pte(addr);
            String at = what + " page " + i + " " + Pte.toString(pte) + " -> " + HmmPfn.toString(o);
            assertEquals(inputs[i] & HMM_PFN_INOUT_FLAGS, o & HMM_PFN_INOUT_FLAGS, at + ": sticky bits");
            assertEquals(0, HmmPfn.hmmPfnToMapOrder(o), at);
            boolean owned = isOwned(bed, pte, r.devPrivateOwner());
            if (owned) {
                assertEquals(before[i], pte, at + ": an owned device page is never migrated (I-24)");
            }
            if ((req & REQ_FAULT) != 0) {
                assertTrue((o & VALID) != 0 && (o & ERROR) == 0, at + ": REQ_FAULT => VALID, not ERROR (I-22)");
                if ((req & REQ_WRITE) != 0 && !owned) {
                    assertTrue((o & WRITE) != 0, at + ": REQ_WRITE => WRITE (I-22)");
                }
            }
            if ((o & VALID) != 0) {
                boolean mapped = (Pte.isPresent(pte) && !Pte.isProtNone(pte)) || owned;
                assertTrue(mapped && Pte.pfn(pte) == HmmPfn.pfn(o), at + ": VALID names the mapped pfn");
                assertEquals(Pte.isWrite(pte), (o & WRITE) != 0, at + ": WRITE as the entry");
            } else if ((o & ERROR) != 0) {
                assertTrue(unusable(bed, addr) || Pte.isSpecial(pte) && !Pte.isZero(pte), at + ": ERROR needs a reason");
            } else {
                assertEquals(0, o & ~HMM_PFN_INOUT_FLAGS, at + ": neither VALID nor ERROR is 0");
                assertTrue(!Pte.isPresent(pte), at + ": 0 only for a page that is not mapped");
            }
        }
    }

    private static boolean isOwned(HmmBed bed, long pte, Object owner) {
        if (!Pte.isDevicePrivate(pte) || owner == null) {
            return false;
        }
        Page p = bed.phys.pfnToPage(Pte.pfn(pte));
        return p.devicePrivateOwner() == owner;
    }

    /** No VMA, or a VMA the walk refuses. */
    private static boolean unusable(HmmBed bed, long addr) {
        Vma vma = vmaAt(bed, addr);
        return vma == null || vma.hasAny(VmFlags.VM_IO | VmFlags.VM_PFNMAP) || !vma.hasAny(VmFlags.VM_READ);
    }

    private static Vma vmaAt(HmmBed bed, long addr) {
        bed.mm.mmapReadLock();
        try {
            return bed.mm.vmaLookup(addr);
        } finally {
            bed.mm.mmapReadUnlock();
        }
    }

    /**
     * A page that asks for a fault and can never be valid: no usable VMA, or a special entry.
     * Device-private entries of another owner and device-exclusive entries are faulted back
     * to ordinary pages, so they are never a reason.
     */
    private static boolean efaultHasAReason(HmmBed bed, HmmRange r, long[] inputs, long[] before) {
        for (int i = 0; i < inputs.length; i++) {
            long addr = r.start() + i * PAGE;
            long req = (inputs[i] & r.pfnFlagsMask()) | r.defaultFlags();
            boolean special = Pte.isPresent(before[i]) && Pte.isSpecial(before[i]) && !Pte.isZero(before[i]);
            if ((req & REQ_FAULT) != 0 && (unusable(bed, addr) || special)) {
                return true;
            }
        }
        return false;
    }

    /** A page that asks for a write in a usable VMA without VM_WRITE. */
    private static boolean epermHasAReason(HmmBed bed, HmmRange r, long[] inputs) {
        long need = REQ_FAULT | REQ_WRITE;
        for (int i = 0; i < inputs.length; i++) {
            long addr = r.start() + i * PAGE;
            long req = (inputs[i] & r.pfnFlagsMask()) | r.defaultFlags();
            if ((req & need) == need && !unusable(bed, addr)) {
                assertNotEquals(null, vmaAt(bed, addr));
                if (!vmaAt(bed, addr).hasAny(VmFlags.VM_WRITE)) {
                    return true;
                }
            }
        }
        return false;
    }
}
