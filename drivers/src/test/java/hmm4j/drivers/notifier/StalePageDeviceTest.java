package hmm4j.drivers.notifier;

import static hmm4j.testkit.RunAssertions.assertClean;
import static hmm4j.testkit.RunAssertions.assertSingleFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import hmm4j.testkit.TestKernels;
import hmm4j.testkit.UserProcess;
import org.junit.jupiter.api.Test;

/**
 * A user's own driver that caches the page {@code hmm_range_fault} gave it, without a
 * reference and without a device-mapping declaration: when its invalidate callback forgets to
 * drop the cached page on {@code MMU_NOTIFY_UNMAP}, the device's later read of the page the
 * munmap freed is a use-after-free with the page's three sites (allocated by the process's
 * first touch, freed by the munmap, read by the device). The fixed callback drops it and the
 * device's read refaults and gets {@code -EFAULT}.
 */
class StalePageDeviceTest {
    private static final long PAGE = Pte.PAGE_SIZE;

    /** One cached page of device "memory". */
    static final class CachingDevice {
        final Kernel kernel;
        final MmStruct mm;
        final Mutex mutex;
        final MmuIntervalNotifier notifier = new MmuIntervalNotifier("cache->notifier");
        Page cached;

        CachingDevice(Kernel kernel, MmStruct mm, long start, boolean dropsOnInvalidate) {
            this.kernel = kernel;
            this.mm = mm;
            this.mutex = new Mutex(kernel, "cache->mutex");
            assertEquals(0, notifier.mmuIntervalNotifierInsert(mm, start, PAGE, (sub, range, seq) -> {
                if (!InvalidateLock.lockFor(mutex, range)) {
                    return false;
                }
                sub.mmuIntervalSetSeq(seq);
                if (dropsOnInvalidate) {
                    cached = null;
                }
                mutex.unlock();
                return true;
            }));
        }

        int fault(long addr) {
            long[] pfns = new long[1];
            HmmRange range = new HmmRange(notifier, addr, addr + PAGE, pfns, HmmPfn.HMM_PFN_REQ_FAULT, 0, this);
            while (true) {
                range.setNotifierSeq(notifier.mmuIntervalReadBegin());
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
                mutex.lock();
                try {
                    if (notifier.mmuIntervalReadRetry(range.notifierSeq())) {
                        continue;
                    }
                    cached = HmmPfn.hmmPfnToPage(PhysMem.of(kernel), pfns[0]);
                    return 0;
                } finally {
                    mutex.unlock();
                }
            }
        }

        /** The device reads an int through its cached page, faulting it in first if it has none. */
        int deviceRead(long addr, int[] out) {
            mutex.lock();
            Page p = cached;
            if (p != null) {
                out[0] = p.readInt(0);
                mutex.unlock();
                return 0;
            }
            mutex.unlock();
            int ret = fault(addr);
            return ret != 0 ? ret : deviceRead(addr, out);
        }
    }

    private static RunResult run(boolean dropsOnInvalidate, int[] lastRead) {
        Kernel k = TestKernels.checked(1);
        UserProcess.withMapping(k, "proc", 1, (kk, mm, base) -> {
            CachingDevice dev = new CachingDevice(kk, mm, base, dropsOnInvalidate);
            int[] out = new int[1];
            assertEquals(0, dev.deviceRead(base, out));
            assertEquals(0, Mmap.munmap(mm, base, PAGE));
            lastRead[0] = dev.deviceRead(base, out);
            dev.notifier.mmuIntervalNotifierRemove();
        });
        return k.run();
    }

    @Test
    void aCallbackThatKeepsTheCachedPageOnUnmap_readsTheFreedPage_aUseAfterFreeWithThreeSites() {
        RunResult r = run(false, new int[1]);
        Failure.UseAfterFree uaf = assertSingleFailure(r, Failure.UseAfterFree.class);
        assertEquals("read of the contents", uaf.access());
        assertTrue(uaf.object().startsWith("page pfn=0x"), uaf.object());
        assertEquals("proc", uaf.allocated().task());
        assertTrue(uaf.freed().frames().get(0).startsWith("Page.put")
                && uaf.freed().frames().stream().anyMatch(f -> f.startsWith("Zap.")), "freed by munmap's zap: " + uaf.freed());
        assertTrue(uaf.site().frames().stream().anyMatch(f -> f.startsWith("StalePageDeviceTest$CachingDevice.deviceRead")),
                uaf.site().toString());
        assertTrue(uaf.allocated().step() < uaf.freed().step() && uaf.freed().step() <= uaf.site().step());
    }

    @Test
    void aCallbackThatDropsTheCachedPage_refaultsAndGetsEfault_clean() {
        int[] lastRead = new int[1];
        assertClean(run(true, lastRead));
        assertEquals(-Errno.EFAULT, lastRead[0]);
    }
}
