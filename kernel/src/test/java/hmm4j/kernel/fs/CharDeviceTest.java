package hmm4j.kernel.fs;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PfnMap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.module.Module;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The char-device file layer: open / ioctl / mmap / close on a reference-counted
 * {@code struct file}, the release after the last reference (descriptors, calls in progress,
 * mappings), the owner module pinned while a file is open, and a driver that keeps a file
 * pointer without a reference found as a use-after-free.
 */
class CharDeviceTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long DEVICE_PFN = 0x100000;

    /** A device whose files count opens and releases; ioctl 1 answers the private data's value. */
    static final class CountingFops implements FileOperations {
        final AtomicInteger opens = new AtomicInteger();
        final List<String> released = new CopyOnWriteArrayList<>();
        final Kernel kernel;
        final Module owner;
        int openError;

        CountingFops(Kernel kernel, Module owner) {
            this.kernel = kernel;
            this.owner = owner;
        }

        @Override
        public Module owner() {
            return owner;
        }

        @Override
        public int open(File file) {
            if (openError != 0) {
                return openError;
            }
            file.setPrivateData(opens.incrementAndGet());
            return 0;
        }

        @Override
        public int release(File file) {
            released.add(kernel.current().name());
            return 0;
        }

        @Override
        public long unlockedIoctl(File file, int cmd, Object arg) {
            return cmd == 1 ? (Integer) file.privateData() : -Errno.EINVAL;
        }

        @Override
        public int mmap(File file, Vma vma) {
            MmStruct mm = MmStruct.of(kernel.current());
            return PfnMap.remapPfnRange(mm, vma, vma.vmStart(), DEVICE_PFN, vma.vmEnd() - vma.vmStart());
        }
    }

    @Test
    void openIoctlClose_releasesOnTheLastReference_andAClosedDescriptorIsEbadf() {
        Kernel k = checkedKernel(1);
        CountingFops fops = new CountingFops(k, null);
        CharDevice dev = new CharDevice(k, "counter", fops);
        Process.spawn(k, "proc", self -> {
            File f = dev.open().file();
            assertEquals(1, f.ioctl(1, null));
            assertEquals(-Errno.EINVAL, f.ioctl(2, null));
            assertEquals(-Errno.ENODEV, new CharDevice(k, "plain", new FileOperations() { }).open().file()
                    .mmap(PAGE, Mmap.PROT_READ, Mmap.MAP_SHARED), "no mmap in the driver");
            assertEquals(0, f.close());
            assertEquals(List.of("proc"), fops.released, "the last close released the file");
            assertTrue(f.isFreed());
            assertEquals(-Errno.EBADF, f.ioctl(1, null), "the caller has no descriptor for it any more");
        });
        assertClean(k.run());
    }

    @Test
    void aFailedOpenHasNoRelease_andAGoingModuleRefusesOpens() {
        Kernel k = checkedKernel(1);
        AtomicReference<CharDevice> node = new AtomicReference<>();
        AtomicInteger openWhileGoing = new AtomicInteger();
        Module mod = Module.load(k, "drv", m -> 0, m -> openWhileGoing.set(node.get().open().ret()));
        CountingFops fops = new CountingFops(k, mod);
        CharDevice dev = new CharDevice(k, "drv0", fops);
        node.set(dev);
        Process.spawn(k, "proc", self -> {
            fops.openError = -Errno.ENODEV;
            CharDevice.Opened failed = dev.open();
            assertEquals(-Errno.ENODEV, failed.ret());
            assertNull(failed.file());
            assertEquals(0, mod.moduleRefcount(), "a failed open unpins the module");
            fops.openError = 0;
            File f = dev.open().file();
            assertEquals(1, mod.moduleRefcount(), "an open file pins its module");
            assertEquals(-Errno.EWOULDBLOCK, mod.deleteModule());
            f.close();
            assertEquals(0, mod.moduleRefcount());
            assertEquals(0, mod.deleteModule());
        });
        assertClean(k.run());
        assertEquals(-Errno.ENXIO, openWhileGoing.get(), "no open while the module is going");
        assertTrue(fops.released.size() == 1);
    }

    @Test
    void aMappingHoldsTheFile_releaseRunsAfterTheMunmap() {
        Kernel k = checkedKernel(1);
        CountingFops fops = new CountingFops(k, null);
        CharDevice dev = new CharDevice(k, "bar", fops);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            File f = dev.open().file();
            long addr = f.mmap(2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED);
            assertTrue(addr > 0, "mmap: " + addr);
            assertEquals(2, f.fileCount(), "the descriptor's and the VMA's");
            f.close();
            assertTrue(fops.released.isEmpty(), "still mapped: no release");
            mm.mmapReadLock();
            Vma vma = mm.findVma(addr);
            assertTrue(vma.hasAny(hmm4j.kernel.mm.VmFlags.VM_PFNMAP) && vma.vmFile() == f);
            assertEquals(DEVICE_PFN + 1, Pte.pfn(mm.pgd("test").get(addr + PAGE)));
            mm.mmapReadUnlock();
            Mmap.munmap(mm, addr, PAGE);
            assertTrue(fops.released.isEmpty(), "half a mapping still holds the file");
            Mmap.munmap(mm, addr + PAGE, PAGE);
            File.flushDelayedFput(k);
            assertEquals(1, fops.released.size(), "released once the last mapping is gone");
        });
        assertClean(k.run());
    }

    /** A driver that remembers the last opened file in its device object, with or without a reference. */
    static final class Remembering implements FileOperations {
        final AtomicReference<File> last = new AtomicReference<>();
        final boolean takesReference;

        Remembering(boolean takesReference) {
            this.takesReference = takesReference;
        }

        @Override
        public int open(File file) {
            if (takesReference) {
                file.getFile();
            }
            last.set(file);
            return 0;
        }

        /** The device's interrupt path: reads the remembered file's private data. */
        void interrupt() {
            File f = last.get();
            if (f != null) {
                f.privateData();
            }
        }

        /** Teardown: drops the remembered file's reference, if it took one. */
        void teardown() {
            File f = last.getAndSet(null);
            if (takesReference && f != null) {
                f.fput();
            }
        }
    }

    @Test
    void aDriverKeepingAFilePointerWithoutAReference_isAUseAfterFreeOfTheFile() {
        Kernel k = checkedKernel(1);
        Remembering drv = new Remembering(false);
        CharDevice dev = new CharDevice(k, "remember", drv);
        Process.spawn(k, "proc", self -> {
            dev.open().file().close();
            drv.interrupt();
        });
        Failure.UseAfterFree uaf = assertSingleFailure(k.run(), Failure.UseAfterFree.class);
        assertTrue(uaf.object().contains("file of /dev/remember"), uaf.object());
        assertEquals("proc", uaf.freed().task());
    }

    @Test
    void theDriverTakingItsOwnReference_isClean() {
        Kernel k = checkedKernel(1);
        Remembering drv = new Remembering(true);
        CharDevice dev = new CharDevice(k, "remember", drv);
        Process.spawn(k, "proc", self -> {
            File f = dev.open().file();
            f.close();
            drv.interrupt();
            assertFalse(f.isFreed());
            drv.teardown();
            assertTrue(f.isFreed());
        });
        assertClean(k.run());
    }
}
