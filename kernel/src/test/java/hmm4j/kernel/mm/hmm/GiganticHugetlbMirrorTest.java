package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Hugetlb;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.devmap.DeviceMap;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.api.Test;

/**
 * A deliberately wrong mirror of a 1 GiB hugetlb page, found by the device-mapping checker,
 * and its fix clean. The driver's interval covers the first 2 MiB of the mapping (its
 * buffer); it faults a few pages there, is told map order 18, and the wrong driver maps the
 * whole order-18 block on the device, as if the order gave it the block to mirror. Its
 * invalidate callback clears what its interval covers, as drivers do, so the
 * {@code munmap} of the gigantic page leaves the block's entries above the interval naming
 * pages the CPU no longer maps: the checker reports an entry that survived the
 * {@code MMU_NOTIFY_UNMAP} covering it. The fixed driver clamps the block to its interval.
 */
class GiganticHugetlbMirrorTest {
    private static final long GB = Hugetlb.GIGANTIC_PAGE_SIZE;
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final Object GPU = new Object() {
        @Override
        public String toString() {
            return "gpu";
        }
    };

    private static RunResult run(boolean clampToInterval, int[] left) {
        Kernel k = checkedKernel(18);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(1, Hugetlb.of(k).setNrHugepages(Pte.PUD_SHIFT, 1));
            long a = Mmap.mmap(mm, 0, GB, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB | Mmap.MAP_HUGE_1GB, null, 0);
            assertTrue(a > 0);
            long bufEnd = a + Pte.PMD_SIZE;
            DeviceMap map = DeviceMap.create(mm, "gpu-mirror->pt", GPU);
            MmuIntervalNotifier notifier = new MmuIntervalNotifier("gpu-mirror");
            assertEquals(0, notifier.mmuIntervalNotifierInsert(mm, a, bufEnd - a, (sub, range, seq) -> {
                sub.mmuIntervalSetSeq(seq);
                map.unmapRange(Math.max(range.start(), a), Math.min(range.end(), bufEnd));
                return true;
            }));
            long[] pfns = new long[16];
            HmmRange range = new HmmRange(notifier, a, a + pfns.length * PAGE, pfns,
                    HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE, 0, GPU);
            while (true) {
                range.setNotifierSeq(notifier.mmuIntervalReadBegin());
                mm.mmapReadLock();
                int ret = Hmm.hmmRangeFault(range);
                mm.mmapReadUnlock();
                if (ret == -Errno.EBUSY) {
                    continue;
                }
                assertEquals(0, ret);
                if (!notifier.mmuIntervalReadRetry(range.notifierSeq())) {
                    break;
                }
            }
            int order = HmmPfn.hmmPfnToMapOrder(pfns[0]);
            assertEquals(Hugetlb.GIGANTIC_ORDER, order);
            long blockStart = a & -(PAGE << order);
            long blockEnd = blockStart + (PAGE << order);
            long head = HmmPfn.pfn(pfns[0]) - (a - blockStart) / PAGE;
            long from = clampToInterval ? Math.max(blockStart, a) : blockStart;
            long to = clampToInterval ? Math.min(blockEnd, bufEnd) : blockEnd;
            for (long va = from; va < to; va += PAGE) {
                map.map(va, PhysMem.of(k).pfnToPage(head + (va - blockStart) / PAGE), true);
            }
            assertEquals(0, Mmap.munmap(mm, a, GB));
            left[0] = map.size();
            notifier.mmuIntervalNotifierRemove();
            map.close();
        });
        return k.run();
    }

    @Test
    void aDriverMappingTheWholeOrder18Block_beyondItsInterval_isFoundByTheDeviceMapChecker() {
        int[] left = new int[1];
        RunResult r = run(false, left);
        assertFalse(r.failures().isEmpty(), "the wrong driver must be caught");
        Failure.InvariantViolation v = (Failure.InvariantViolation) r.failures().get(0);
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, v.rule(), v::detail);
        assertTrue(v.detail().contains("MMU_NOTIFY_UNMAP"), v::detail);
    }

    @Test
    void theDriverClampingTheBlockToItsInterval_isClean() {
        int[] left = new int[1];
        assertClean(run(true, left));
        assertEquals(0, left[0]);
    }
}
