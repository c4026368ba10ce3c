package hmm4j.kernel.mm.devmap;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mremap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.api.Test;

/**
 * A mirror across {@code mremap}: the move tells the device with {@code MMU_NOTIFY_UNMAP} of
 * the source range, so a deliberately wrong mirror that treats UNMAP as "the range is going
 * away anyway" and keeps its entries is caught by the device-map checker at the end of that
 * invalidation; the right mirror is clean and maps the pages again at their new address.
 */
class MremapDeviceMapTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final Object OWNER = new Object();

    /** Maps two pages, mirrors both on the device, then moves them with MREMAP_FIXED. */
    private static RunResult moveMirrored(boolean ignoreUnmap) {
        Kernel k = checkedKernel(3);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 8 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (2 * PAGE)]) != 0
                    || Mmap.munmap(mm, base + 2 * PAGE, 6 * PAGE) != 0) {
                throw new IllegalStateException("set-up failed: " + base);
            }
            DeviceMap map = DeviceMap.create(mm, "dev->pt", OWNER);
            MmuIntervalNotifier notifier = new MmuIntervalNotifier("dev->notifier");
            notifier.mmuIntervalNotifierInsert(mm, base, 8 * PAGE, (sub, range, seq) -> {
                sub.mmuIntervalSetSeq(seq);
                if (!(ignoreUnmap && range.event() == MmuNotifierEvent.MMU_NOTIFY_UNMAP)) {
                    map.unmapRange(range.start(), range.end());
                }
                return true;
            });
            for (int i = 0; i < 2; i++) {
                map.map(base + i * PAGE, PhysMem.of(k).pfnToPage(Pte.pfn(mm.ptePeek(base + i * PAGE))), true);
            }
            long to = base + 4 * PAGE;
            assertEquals(to, Mremap.mremap(mm, base, 2 * PAGE, 2 * PAGE, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED,
                    to));
            assertNull(map.entry(base), "the device dropped its entry for the old address");
            map.map(to, PhysMem.of(k).pfnToPage(Pte.pfn(mm.ptePeek(to))), true);
            map.access(to, true);
            notifier.mmuIntervalNotifierRemove();
            map.close();
        });
        return k.run();
    }

    @Test
    void aMirrorThatClearsOnEveryEvent_isClean_andMapsThePageAgainAtItsNewAddress() {
        assertClean(moveMirrored(false));
    }

    @Test
    void aMirrorThatIgnoresUnmap_keepsADeviceEntryAcrossTheMove_andTheCheckerFindsIt() {
        RunResult r = moveMirrored(true);
        assertEquals(1, r.failures().size(), () -> r.failures().toString());
        Failure.InvariantViolation v = (Failure.InvariantViolation) r.failures().get(0);
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, v.rule(), v::detail);
        assertTrue(v.detail().contains("survived the invalidation MMU_NOTIFY_UNMAP"), v.detail());
    }
}
