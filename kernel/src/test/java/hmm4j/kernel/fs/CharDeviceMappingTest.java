package hmm4j.kernel.fs;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PfnMap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * mmap of a char device with a page offset ({@code vm_pgoff}, which the driver reads to choose
 * what to map) and with {@code MAP_FIXED} over an existing mapping: the overlapped part is
 * unmapped first, with its {@code MMU_NOTIFY_UNMAP} invalidation, before the driver's
 * {@code mmap} runs; a driver that fails then leaves a hole, as {@code mmap_region} does.
 */
class CharDeviceMappingTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long BAR_PFN = 0x100000;
    private static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;

    /** A device whose page {@code n} of the file is pfn {@code BAR_PFN + n}; records each call, and fails when told. */
    static final class BarFops implements FileOperations {
        final Kernel kernel;
        final List<String> log;
        volatile int error;

        BarFops(Kernel kernel, List<String> log) {
            this.kernel = kernel;
            this.log = log;
        }

        @Override
        public int mmap(File file, Vma vma) {
            log.add("mmap pgoff=" + vma.pgoff());
            if (error != 0) {
                return error;
            }
            MmStruct mm = MmStruct.of(kernel.current());
            return PfnMap.remapPfnRange(mm, vma, vma.vmStart(), BAR_PFN + vma.pgoff(), vma.vmEnd() - vma.vmStart());
        }
    }

    private static long pte(MmStruct mm, long addr) {
        mm.mmapReadLock();
        try {
            return mm.pgd("test").get(addr);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    @Test
    void aPageOffset_isTheVmasPgoff_andTheDriverMapsFromThere_andSplitsKeepIt() {
        Kernel k = checkedKernel(1);
        List<String> log = new CopyOnWriteArrayList<>();
        CharDevice dev = new CharDevice(k, "bar", new BarFops(k, log));
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            File f = dev.open().file();
            long addr = f.mmap(0, 3 * PAGE, RW, Mmap.MAP_SHARED, 5);
            assertTrue(addr > 0, "mmap: " + addr);
            assertEquals(BAR_PFN + 5, Pte.pfn(pte(mm, addr)));
            assertEquals(BAR_PFN + 7, Pte.pfn(pte(mm, addr + 2 * PAGE)));
            assertEquals(0, Mmap.munmap(mm, addr, PAGE));
            mm.mmapReadLock();
            Vma rest = mm.findVma(addr + PAGE);
            assertEquals(addr + PAGE, rest.vmStart());
            assertEquals(6, rest.pgoff(), "the part left maps the file from page 6");
            mm.mmapReadUnlock();
            f.close();
        });
        assertClean(k.run());
        assertEquals(List.of("mmap pgoff=5"), log);
    }

    @Test
    void mapFixedOverAnonymousMemory_unmapsTheOverlapFirst_withItsUnmapInvalidation() {
        Kernel k = checkedKernel(1);
        List<String> log = new CopyOnWriteArrayList<>();
        CharDevice dev = new CharDevice(k, "bar", new BarFops(k, log));
        Page[] old = new Page[1];
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 4 * PAGE, RW);
            assertEquals(0, UserAccess.copyToUser(k, base, new byte[(int) (4 * PAGE)]));
            old[0] = PhysMem.of(k).pfnToPage(Pte.pfn(pte(mm, base + PAGE)));
            MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror");
            sub.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, (s, range, seq) -> {
                s.mmuIntervalSetSeq(seq);
                log.add(range.event() + " [" + (range.start() - base) / PAGE + ", " + (range.end() - base) / PAGE + ")");
                return true;
            });
            File f = dev.open().file();
            long addr = f.mmap(base + PAGE, 2 * PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_FIXED, 0);
            assertEquals(base + PAGE, addr);
            assertEquals(BAR_PFN, Pte.pfn(pte(mm, base + PAGE)));
            assertEquals(BAR_PFN + 1, Pte.pfn(pte(mm, base + 2 * PAGE)));
            mm.mmapReadLock();
            assertNull(mm.findVma(base).vmFile(), "the anonymous head stays");
            assertNotNull(mm.findVma(base + PAGE).vmFile());
            assertNull(mm.findVma(base + 3 * PAGE).vmFile(), "the anonymous tail stays");
            mm.mmapReadUnlock();
            assertTrue(Pte.isPresent(pte(mm, base)) && Pte.isPresent(pte(mm, base + 3 * PAGE)));
            sub.mmuIntervalNotifierRemove();
            f.close();
        });
        assertClean(k.run());
        assertEquals(List.of("MMU_NOTIFY_UNMAP [1, 3)", "mmap pgoff=0"), log,
                "the overlap is invalidated before the driver maps");
        assertEquals(Page.State.FREE, old[0].state(), "the replaced anonymous page is freed");
    }

    @Test
    void mapFixedWhoseDriverFails_leavesAHoleWhereTheOldMappingWas() {
        Kernel k = checkedKernel(1);
        List<String> log = new CopyOnWriteArrayList<>();
        BarFops fops = new BarFops(k, log);
        CharDevice dev = new CharDevice(k, "bar", fops);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 3 * PAGE, RW);
            File f = dev.open().file();
            fops.error = -Errno.ENOSPC;
            assertEquals(-Errno.ENOSPC, f.mmap(base + PAGE, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_FIXED, 0));
            mm.mmapReadLock();
            assertNull(mm.vmaLookup(base + PAGE), "the old mapping is gone, nothing replaced it");
            assertNotNull(mm.vmaLookup(base));
            assertNotNull(mm.vmaLookup(base + 2 * PAGE));
            mm.mmapReadUnlock();
            assertEquals(1, f.fileCount(), "the failed VMA's reference was dropped");
            f.close();
        });
        assertClean(k.run());
    }

    @Test
    void badArguments_areRefusedBeforeAnythingIsUnmapped() {
        Kernel k = checkedKernel(1);
        List<String> log = new CopyOnWriteArrayList<>();
        CharDevice dev = new CharDevice(k, "bar", new BarFops(k, log));
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 2 * PAGE, RW);
            File f = dev.open().file();
            int fixed = Mmap.MAP_SHARED | Mmap.MAP_FIXED;
            assertEquals(-Errno.EINVAL, f.mmap(base + 1, PAGE, RW, fixed, 0), "unaligned MAP_FIXED address");
            assertEquals(-Errno.ENOMEM, f.mmap(Pte.TASK_SIZE - PAGE, 2 * PAGE, RW, fixed, 0), "beyond TASK_SIZE");
            assertEquals(-Errno.EOVERFLOW, f.mmap(0, 2 * PAGE, RW, Mmap.MAP_SHARED, Long.MAX_VALUE), "file range wraps");
            assertEquals(-Errno.EINVAL, f.mmap(0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_PRIVATE, 0));
            mm.mmapReadLock();
            assertNotNull(mm.vmaLookup(base));
            mm.mmapReadUnlock();
            f.close();
        });
        assertClean(k.run());
        assertTrue(log.isEmpty(), "the driver was never called: " + log);
    }
}
