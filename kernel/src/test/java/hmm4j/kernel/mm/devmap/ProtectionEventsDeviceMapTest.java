package hmm4j.kernel.mm.devmap;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ClearRefs;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Ksm;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MigratePages;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.NumaBalancing;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Drivers that skip some invalidation events, against the sources of issue 11 item 3: a
 * device mapping kept writable across a soft-dirty clear or a NUMA-balancing scan (events a
 * driver might think "only change protections") is found by the device-mapping checker, and
 * so is one kept across the CLEAR of an ordinary migration or of a KSM merge; handling every
 * event is clean.
 */
class ProtectionEventsDeviceMapTest {
    private static final long PAGE = Pte.PAGE_SIZE;

    /**
     * Two pages of one byte each (both 7, so KSM can merge them), both mapped writable in a
     * device map; the callback clears the device entries of every event not in {@code ignored}.
     * Then {@code op} runs on the mm.
     */
    private static RunResult run(Set<MmuNotifierEvent> ignored, Consumer<MmStruct> op) {
        Kernel k = checkedKernel(11);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[] {7}) != 0
                    || UserAccess.copyToUser(k, base + PAGE, new byte[] {7}) != 0) {
                throw new IllegalStateException("set-up failed: " + base);
            }
            DeviceMap map = DeviceMap.create(mm, "dev->pt", null);
            MmuIntervalNotifier notifier = new MmuIntervalNotifier("dev->notifier");
            notifier.mmuIntervalNotifierInsert(mm, base, 2 * PAGE, (sub, range, seq) -> {
                sub.mmuIntervalSetSeq(seq);
                if (!ignored.contains(range.event())) {
                    map.unmapRange(range.start(), range.end());
                }
                return true;
            });
            for (long a = base; a < base + 2 * PAGE; a += PAGE) {
                map.map(a, PhysMem.of(k).pfnToPage(Pte.pfn(mm.ptePeek(a))), true);
            }
            op.accept(mm);
            notifier.mmuIntervalNotifierRemove();
            map.close();
        });
        return k.run();
    }

    private static void assertSurvivorFound(RunResult r, MmuNotifierEvent event) {
        assertTrue(r.failures().size() >= 1, () -> "expected a finding, got " + r.failures());
        Failure.InvariantViolation v = (Failure.InvariantViolation) r.failures().get(0);
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, v.rule(), v::detail);
        assertTrue(v.detail().contains("survived the invalidation " + event), v.detail());
    }

    private static void softDirty(MmStruct mm) {
        assertEquals(0, ClearRefs.clearRefsWrite(mm, ClearRefs.CLEAR_REFS_SOFT_DIRTY));
    }

    private static void numaScan(MmStruct mm) {
        assertEquals(2, NumaBalancing.taskNumaWork(mm, 0, Pte.TASK_SIZE));
    }

    private static void compact(MmStruct mm) {
        assertEquals(2, MigratePages.compactRange(mm, 0, Pte.TASK_SIZE));
    }

    private static void ksmMerge(MmStruct mm) {
        long base = mm.vmas("test").intersecting(0, Pte.TASK_SIZE).get(0).vmStart();
        assertEquals(0, Madvise.madvise(mm, base, 2 * PAGE, Ksm.MADV_MERGEABLE));
        assertEquals(1, Ksm.ksmdScan(mm.kernel()));
    }

    @Test
    void ignoringSoftDirty_keepsAWritableDeviceEntry_andIsFound() {
        assertSurvivorFound(run(EnumSet.of(MmuNotifierEvent.MMU_NOTIFY_SOFT_DIRTY), ProtectionEventsDeviceMapTest::softDirty),
                MmuNotifierEvent.MMU_NOTIFY_SOFT_DIRTY);
    }

    @Test
    void handlingSoftDirty_isClean() {
        assertClean(run(EnumSet.noneOf(MmuNotifierEvent.class), ProtectionEventsDeviceMapTest::softDirty));
    }

    @Test
    void ignoringProtectionVma_keepsAWritableEntryAcrossANumaScan_andIsFound() {
        assertSurvivorFound(run(EnumSet.of(MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA),
                ProtectionEventsDeviceMapTest::numaScan), MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA);
    }

    @Test
    void handlingProtectionVma_acrossANumaScan_isClean() {
        assertClean(run(EnumSet.noneOf(MmuNotifierEvent.class), ProtectionEventsDeviceMapTest::numaScan));
    }

    @Test
    void ignoringClear_keepsAnEntryOfAMigratedPage_andIsFound() {
        assertSurvivorFound(run(EnumSet.of(MmuNotifierEvent.MMU_NOTIFY_CLEAR), ProtectionEventsDeviceMapTest::compact),
                MmuNotifierEvent.MMU_NOTIFY_CLEAR);
    }

    @Test
    void handlingClear_acrossCompaction_isClean() {
        assertClean(run(EnumSet.noneOf(MmuNotifierEvent.class), ProtectionEventsDeviceMapTest::compact));
    }

    @Test
    void ignoringClear_keepsAnEntryOfAPageKsmReplaced_andIsFound() {
        assertSurvivorFound(run(EnumSet.of(MmuNotifierEvent.MMU_NOTIFY_CLEAR), ProtectionEventsDeviceMapTest::ksmMerge),
                MmuNotifierEvent.MMU_NOTIFY_CLEAR);
    }

    @Test
    void handlingClear_acrossAKsmMerge_isClean() {
        assertClean(run(EnumSet.noneOf(MmuNotifierEvent.class), ProtectionEventsDeviceMapTest::ksmMerge));
    }
}
