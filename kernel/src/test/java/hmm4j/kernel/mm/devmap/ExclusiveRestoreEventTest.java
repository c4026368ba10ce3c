package hmm4j.kernel.mm.devmap;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.migrate.DeviceExclusive;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CPU taking a device-exclusive page back tells the device with {@code MMU_NOTIFY_CLEAR}
 * (mm/memory.c {@code remove_device_exclusive_entry} since v6.15), not with
 * {@code MMU_NOTIFY_EXCLUSIVE}: a driver whose callback filters EXCLUSIVE events out (they
 * only announce its own conversions) and clears its entries on everything else is correct
 * and stays clean; the same driver ignoring CLEAR too keeps a stale atomic entry and is found.
 */
class ExclusiveRestoreEventTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final Object OWNER = new Object();

    /**
     * One page made device-exclusive for OWNER and mapped writable in the device map, then read
     * by the CPU. The callback skips EXCLUSIVE events and, if {@code handleClear}, clears the
     * device entries of every other event. {@code events} receives "event owner" per callback.
     */
    private static RunResult run(boolean handleClear, List<String> events) {
        Kernel k = checkedKernel(1);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[] {7}) != 0) {
                throw new IllegalStateException("set-up failed: " + base);
            }
            DeviceMap map = DeviceMap.create(mm, "dev->pt", OWNER);
            MmuIntervalNotifier notifier = new MmuIntervalNotifier("dev->notifier");
            notifier.mmuIntervalNotifierInsert(mm, base, PAGE, (sub, range, seq) -> {
                events.add(range.event() + " " + (range.owner() == OWNER ? "own" : "none"));
                if (range.event() == MmuNotifierEvent.MMU_NOTIFY_EXCLUSIVE
                        || (!handleClear && range.event() == MmuNotifierEvent.MMU_NOTIFY_CLEAR)) {
                    return true;
                }
                sub.mmuIntervalSetSeq(seq);
                map.unmapRange(range.start(), range.end());
                return true;
            });
            mm.mmapReadLock();
            ErrPtr<Page> got = DeviceExclusive.makeDeviceExclusive(mm, base, OWNER);
            mm.mmapReadUnlock();
            assertFalse(got.isErr(), got.toString());
            Page page = got.get();
            map.map(base, page, true);
            page.unlock();
            page.put();
            map.access(base, true);

            byte[] b = new byte[1];
            assertEquals(0, UserAccess.copyFromUser(k, b, base));
            assertEquals(7, b[0]);
            assertTrue(Pte.isPresent(mm.ptePeek(base)), Pte.toString(mm.ptePeek(base)));
            if (handleClear) {
                assertNull(map.entry(base), "the CLEAR callback erased the atomic entry");
            }
            notifier.mmuIntervalNotifierRemove();
            map.close();
        });
        return k.run();
    }

    @Test
    void aDriverThatSkipsExclusiveEvents_isToldByClear_andStaysClean() {
        List<String> events = new ArrayList<>();
        assertClean(run(true, events));
        assertEquals(List.of("MMU_NOTIFY_EXCLUSIVE own", "MMU_NOTIFY_CLEAR none"), events,
                "the conversion carries the caller's owner, the restore is a CLEAR without owner");
    }

    @Test
    void aDriverThatAlsoSkipsClear_keepsAStaleEntry_andIsFound() {
        List<String> events = new ArrayList<>();
        RunResult r = run(false, events);
        assertEquals(1, r.failures().size(), () -> r.failures().toString());
        Failure.InvariantViolation v = (Failure.InvariantViolation) r.failures().get(0);
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, v.rule(), v::detail);
        assertTrue(v.detail().contains("survived the invalidation MMU_NOTIFY_CLEAR"), v.detail());
    }
}
