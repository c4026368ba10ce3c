package hmm4j.kernel.mm.devmap;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Mirrors that map a device PMD entry when {@code hmm_range_fault} reports map order 9, judged
 * by the device-mapping checker over THP operations:
 * <ul>
 *   <li>a correct mirror (clears what each invalidation covers) is clean;</li>
 *   <li>a mirror that treats an invalidation of part of its huge entry as a no-op is clean too,
 *       and the test says why: every operation on part of a PMD leaf first splits it with a
 *       {@code CLEAR} of the whole 2 MiB, which the mirror does act on (the kernel's
 *       {@code __split_huge_pmd}); the test asserts it saw that event;</li>
 *   <li>a mirror that maps the whole order-aligned 2 MiB although it mirrors (and is notified
 *       for) one page of it is caught by {@code devmap.no-entry-survives-invalidation} at the
 *       end of the split's CLEAR: the entries outside its interval outlive it.</li>
 * </ul>
 */
class HugeDeviceMapTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long HPAGE = Pte.PMD_SIZE;
    private static final int NR = HugeMemory.HPAGE_PMD_NR;

    /** How a mirror handles its huge entries. */
    private enum Design { CORRECT, PARTIAL_NOOP, BLOCK_BEYOND_INTERVAL }

    /** The operation on part of the THP after the device mapped it. */
    private interface Operation {
        void apply(MmStruct mm, long haddr);
    }

    /** One mirror: its interval, device map and the invalidations it saw. */
    private static final class Mirror {
        final MmuIntervalNotifier notifier = new MmuIntervalNotifier("thp-mirror");
        final List<String> seen = new ArrayList<>();
        DeviceMap map;
        long hugeStart = -1;

        boolean invalidate(Design design, MmuNotifierRange range, long ivStart, long ivEnd, long seq) {
            notifier.mmuIntervalSetSeq(seq);
            seen.add(range.event() + " [" + Long.toHexString(range.start()) + ", " + Long.toHexString(range.end()) + ")");
            long start = Math.max(range.start(), ivStart);
            long end = Math.min(range.end(), ivEnd);
            boolean coversHuge = hugeStart >= 0 && range.start() <= hugeStart && range.end() >= hugeStart + HPAGE;
            if (design == Design.PARTIAL_NOOP && hugeStart >= 0 && !coversHuge) {
                return true;
            }
            if (coversHuge) {
                hugeStart = -1;
            }
            map.unmapRange(start, end);
            return true;
        }
    }

    private static RunResult run(Design design, long ivPages, Operation op, Mirror mirror) {
        Kernel k = checkedKernel(3);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long raw = Mmap.mmapAnonymous(mm, 2 * HPAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            long haddr = (raw + HPAGE - 1) & Pte.PMD_MASK;
            if (Errno.isError(raw) || Madvise.madvise(mm, haddr, HPAGE, Madvise.MADV_HUGEPAGE) != 0) {
                throw new IllegalStateException("set-up failed");
            }
            long ivEnd = haddr + ivPages * PAGE;
            mirror.map = DeviceMap.create(mm, "thp-mirror->pt", null);
            mirror.notifier.mmuIntervalNotifierInsert(mm, haddr, ivEnd - haddr,
                    (sub, range, seq) -> mirror.invalidate(design, range, haddr, ivEnd, seq));
            deviceFault(k, mm, mirror, design, haddr, (int) ivPages);
            op.apply(mm, haddr);
            mirror.notifier.mmuIntervalNotifierRemove();
            mirror.map.close();
        });
        return k.run();
    }

    /** A device write fault over [haddr, + pages): hmm_range_fault, then the commit under the seq check. */
    private static void deviceFault(Kernel k, MmStruct mm, Mirror mirror, Design design, long haddr, int pages) {
        long[] pfns = new long[pages];
        HmmRange range = new HmmRange(mirror.notifier, haddr, haddr + pages * PAGE, pfns,
                HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE, 0, null);
        while (true) {
            range.setNotifierSeq(mirror.notifier.mmuIntervalReadBegin());
            mm.mmapReadLock();
            int ret = Hmm.hmmRangeFault(range);
            mm.mmapReadUnlock();
            if (ret == -Errno.EBUSY) {
                continue;
            }
            assertEquals(0, ret);
            if (mirror.notifier.mmuIntervalReadRetry(range.notifierSeq())) {
                continue;
            }
            break;
        }
        assertEquals(HugeMemory.HPAGE_PMD_ORDER, HmmPfn.hmmPfnToMapOrder(pfns[0]), "the CPU maps a THP");
        long head = HmmPfn.pfn(pfns[0]);
        // A device PMD entry: the design decides how much of the order-aligned block it covers.
        int n = design == Design.BLOCK_BEYOND_INTERVAL ? NR : pages;
        for (int i = 0; i < n; i++) {
            mirror.map.map(haddr + i * PAGE, PhysMem.of(k).pfnToPage(head + i), true);
        }
        mirror.hugeStart = haddr;
    }

    private static final Operation PARTIAL_MUNMAP = (mm, haddr) -> Mmap.munmap(mm, haddr + 8 * PAGE, PAGE);
    private static final Operation PARTIAL_MPROTECT = (mm, haddr) -> Mprotect.mprotect(mm, haddr, 8 * PAGE,
            Mmap.PROT_READ);
    private static final Operation PARTIAL_DONTNEED = (mm, haddr) -> Madvise.madvise(mm, haddr + PAGE, PAGE,
            Madvise.MADV_DONTNEED);

    @Test
    void aCorrectMirror_ofAWholeThp_isCleanOverPartialMunmapMprotectAndDontneed() {
        for (Operation op : List.of(PARTIAL_MUNMAP, PARTIAL_MPROTECT, PARTIAL_DONTNEED)) {
            assertClean(run(Design.CORRECT, NR, op, new Mirror()));
        }
    }

    @Test
    void aMirrorIgnoringPartialInvalidations_isSavedByTheSplitsClearOfTheWholePmd() {
        for (Operation op : List.of(PARTIAL_MUNMAP, PARTIAL_MPROTECT, PARTIAL_DONTNEED)) {
            Mirror mirror = new Mirror();
            assertClean(run(Design.PARTIAL_NOOP, NR, op, mirror));
            String split = mirror.seen.stream().filter(s -> s.startsWith("MMU_NOTIFY_CLEAR")).filter(s -> {
                String[] b = s.substring(s.indexOf('[') + 1, s.indexOf(')')).split(", ");
                return Long.parseLong(b[1], 16) - Long.parseLong(b[0], 16) == HPAGE;
            }).findFirst().orElse(null);
            assertTrue(split != null, "the split's CLEAR covers the whole PMD: " + mirror.seen);
        }
    }

    @Test
    void aMirrorMappingTheWholeBlockBeyondItsInterval_isCaughtWhenTheSplitsClearEnds() {
        RunResult r = run(Design.BLOCK_BEYOND_INTERVAL, 1, PARTIAL_MUNMAP, new Mirror());
        assertTrue(!r.failures().isEmpty(), "the wrong mirror must be caught");
        Failure.InvariantViolation v = (Failure.InvariantViolation) r.failures().get(0);
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, v.rule(), v::detail);
        assertTrue(v.detail().contains("survived the invalidation MMU_NOTIFY_CLEAR"), v.detail());

        assertClean(run(Design.CORRECT, 1, PARTIAL_MUNMAP, new Mirror()));
    }
}
