package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.devmap.DeviceMap;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A deliberately wrong driver on a device-private PMD, found by the device-mapping checker,
 * and its fix clean. The driver mirrors its own device THP: {@code hmm_range_fault} with its
 * owner reports the device-private PMD at map order 9 and it maps 512 device entries. Like
 * dmirror it skips the {@code MMU_NOTIFY_MIGRATE} events of its own migrations and updates its
 * table itself after {@code migrate_vma_setup}. The wrong driver treats each collected
 * {@code src} entry as one page, ignoring {@link MigratePfn#MIGRATE_PFN_COMPOUND}: migrating
 * the THP back to system memory it forgets the entry of the first page only, and the 511 others
 * keep naming device pages the CPU no longer maps (and the device frees). The fixed driver
 * forgets 512 pages for a compound entry.
 *
 * <p>On the split path (FAIL_ALLOC: no system THP, the device folio is split and its pages come
 * back as base pages, still one compound {@code src} entry at setup) the same wrong driver is
 * clean: the split of the unmapped folio's PMD sends a {@code CLEAR} of the 2 MiB with no owner,
 * which the driver acts on, as in the kernel ({@code split_huge_pmd_address}). The fix is clean
 * on both paths.
 */
class DevicePrivatePmdMirrorTest {
    private static final long HPAGE = Pte.PMD_SIZE;
    private static final int NR = HugeMemory.HPAGE_PMD_NR;

    /** The events the mirror's notifier saw in the last run, as "EVENT owner". */
    private static final List<String> SEEN = new CopyOnWriteArrayList<>();

    private static RunResult run(boolean honourCompound, boolean splitPath, int[] stale) {
        Kernel k = checkedKernel(5);
        HugeTestDevice dev = new HugeTestDevice(k, GPU, "gpu0", 2);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long raw = mapAnon(mm, 2 * NR, RW);
            long a = (raw + HPAGE - 1) & Pte.PMD_MASK;
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            fill(k, a, NR, 3);

            DeviceMap map = DeviceMap.create(mm, "gpu0-mirror->pt", GPU);
            MmuIntervalNotifier notifier = new MmuIntervalNotifier("gpu0-mirror");
            assertEquals(0, notifier.mmuIntervalNotifierInsert(mm, a, HPAGE, (sub, range, seq) -> {
                sub.mmuIntervalSetSeq(seq);
                SEEN.add(range.event() + " " + range.owner());
                if (range.event() == MmuNotifierEvent.MMU_NOTIFY_MIGRATE && range.owner() == GPU) {
                    return true; // its own migration: the driver updates its table itself
                }
                map.unmapRange(Math.max(range.start(), a), Math.min(range.end(), a + HPAGE));
                return true;
            }));
            dev.afterSetup = args -> {
                for (int i = 0; i < args.npages(); i++) {
                    long s = args.src()[i];
                    if ((s & MigratePfn.MIGRATE_PFN_MIGRATE) == 0) {
                        continue;
                    }
                    int pages = honourCompound && (s & MigratePfn.MIGRATE_PFN_COMPOUND) != 0 ? NR : 1;
                    long addr = args.start() + i * PAGE;
                    map.unmapRange(addr, addr + pages * PAGE);
                }
            };
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));

            // The device faults its own THP: one order-9 answer, 512 entries.
            long[] pfns = new long[NR];
            HmmRange range = new HmmRange(notifier, a, a + HPAGE, pfns,
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
            assertEquals(9, HmmPfn.hmmPfnToMapOrder(pfns[0]));
            for (int i = 0; i < NR; i++) {
                map.map(a + i * PAGE, PhysMem.of(k).pfnToPage(HmmPfn.pfn(pfns[i])), true);
            }

            if (splitPath) {
                dev.failNextHugeAlloc();
            }
            assertTrue(dev.toSystem(mm, a, NR) > 0, "the THP came back");
            stale[0] = map.size();
            // The device uses its table again: an entry left behind is judged here.
            if (map.entry(a + 5 * PAGE) != null) {
                map.access(a + 5 * PAGE, false);
            }
            notifier.mmuIntervalNotifierRemove();
            map.close();
        });
        return k.run();
    }

    @Test
    void aDriverIgnoringTheCompoundFlag_keepsStaleEntriesOfItsDeviceThp_foundByTheDeviceMapChecker() {
        int[] stale = new int[1];
        SEEN.clear();
        RunResult r = run(false, false, stale);
        assertFalse(r.failures().isEmpty(), "the wrong driver must be caught");
        Failure.InvariantViolation v = (Failure.InvariantViolation) r.failures().get(0);
        assertEquals(KernelRules.DEVMAP_NAMES_CPU_PAGE, v.rule(), v::detail);
        assertEquals(NR - 1, stale[0], "511 entries of the device folio are left");
        assertTrue(SEEN.stream().allMatch(e -> e.startsWith("MMU_NOTIFY_MIGRATE gpu")),
                "the whole-THP path sends only the driver's own MIGRATE events: " + SEEN);
    }

    @Test
    void onTheSplitPath_theSameDriverIsSavedByTheSplitsClearOfTheWholePmd() {
        int[] stale = new int[1];
        SEEN.clear();
        assertClean(run(false, true, stale));
        assertEquals(0, stale[0]);
        assertTrue(SEEN.stream().anyMatch(e -> e.startsWith("MMU_NOTIFY_CLEAR null")),
                "the split of the unmapped device folio's PMD sends a CLEAR with no owner: " + SEEN);
    }

    @Test
    void theFixedDriver_forgetsAllOfTheCompoundEntry_andIsClean() {
        for (boolean split : new boolean[] {false, true}) {
            int[] stale = new int[1];
            assertClean(run(true, split, stale));
            assertEquals(0, stale[0]);
        }
    }
}
