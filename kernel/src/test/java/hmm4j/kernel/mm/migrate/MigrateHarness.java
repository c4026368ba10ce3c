package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Helpers for the migration tests: a process body on a checked kernel with a device and a
 * recording interval notifier over the whole address space, and small accessors that assert
 * as they go.
 */
final class MigrateHarness {
    static final long PAGE = Pte.PAGE_SIZE;
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    /** The owner object of the test device. */
    static final Object GPU = new Object() {
        @Override
        public String toString() {
            return "gpu";
        }
    };

    private MigrateHarness() {
    }

    /** A process body: its kernel, task, mm, the device and the recorder. */
    interface Body {
        void run(Kernel k, Task self, MmStruct mm, TestDevice dev, Recorder rec) throws Exception;
    }

    /**
     * Interval-notifier ops that record each invalidation as {@code "EVENT [start, end)
     * owner=X"} (hex addresses) and call {@code set_seq}.
     */
    static final class Recorder implements MmuIntervalNotifierOps {
        private final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        public boolean invalidate(MmuIntervalNotifier subscription, MmuNotifierRange range, long curSeq) {
            subscription.mmuIntervalSetSeq(curSeq);
            events.add(line(range.event().name(), range.start(), range.end(), range.owner()));
            return true;
        }

        List<String> events() {
            return List.copyOf(events);
        }

        void clear() {
            events.clear();
        }

        static String line(String event, long start, long end, Object owner) {
            return event + " [" + Long.toHexString(start) + ", " + Long.toHexString(end) + ") owner=" + owner;
        }
    }

    /** A finished run: its kernel and its device, for checks after every process exited. */
    record Run(Kernel k, TestDevice dev) {
    }

    /** Runs {@code body} in process "proc" on a checked kernel; asserts a clean run that finished. */
    static Run inProcess(long seed, int devicePages, Body body) {
        Kernel k = checkedKernel(seed);
        AtomicBoolean finished = new AtomicBoolean();
        TestDevice[] dev = new TestDevice[1];
        spawn(k, devicePages, dev, (kk, self, mm, d, rec) -> {
            body.run(kk, self, mm, d, rec);
            finished.set(true);
        });
        assertClean(k.run());
        assertTrue(finished.get(), "the process body ran to its end");
        return new Run(k, dev[0]);
    }

    /** Asserts that nothing is left: no ordinary page in use, every device page back with its driver. */
    static void assertNoLeak(Run run) {
        assertEquals(0, PhysMem.of(run.k()).usedPages(), "ordinary pages in use after every process exited");
        assertEquals(0, run.dev().pgmap().pagesInUse(), "device pages in use after every process exited");
    }

    /** Spawns "proc" running {@code body} with a fresh device of {@code devicePages} pages; the caller runs the kernel. */
    static Task spawn(Kernel k, int devicePages, TestDevice[] devOut, Body body) {
        TestDevice dev = new TestDevice(k, GPU, "gpu0", devicePages);
        devOut[0] = dev;
        Recorder rec = new Recorder();
        MmuIntervalNotifier sub = new MmuIntervalNotifier("recorder");
        return Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, 0, Pte.TASK_SIZE, rec));
            body.run(k, self, mm, dev, rec);
            sub.mmuIntervalNotifierRemove();
        });
    }

    /** Private anonymous memory of {@code pages} pages with {@code prot}. */
    static long mapAnon(MmStruct mm, long pages, int prot) {
        long addr = Mmap.mmapAnonymous(mm, pages * PAGE, prot);
        assertFalse(Errno.isError(addr), "mmap failed: " + addr);
        return addr;
    }

    /** The entry mapping {@code addr}, read under the page-table lock. */
    static long pte(MmStruct mm, long addr) {
        mm.pageTableLock().lock();
        try {
            return mm.pgd("test").get(addr);
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    /** The page named by the entry at {@code addr}. */
    static Page pageAt(Kernel k, MmStruct mm, long addr) {
        return PhysMem.of(k).pfnToPage(Pte.pfn(pte(mm, addr)));
    }

    /** Writes the int {@code value} at {@code addr} as the current task; asserts success. */
    static void writeInt(Kernel k, long addr, int value) {
        byte[] b = {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)};
        assertEquals(0, UserAccess.copyToUser(k, addr, b), "copy_to_user at 0x" + Long.toHexString(addr));
    }

    /** Reads the int at {@code addr} as the current task; asserts success. */
    static int readInt(Kernel k, long addr) {
        byte[] b = new byte[4];
        assertEquals(0, UserAccess.copyFromUser(k, b, addr), "copy_from_user at 0x" + Long.toHexString(addr));
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    /** Writes {@code value(i)} into the first int of each of {@code pages} pages from {@code addr}. */
    static void fill(Kernel k, long addr, int pages, int salt) {
        for (int i = 0; i < pages; i++) {
            writeInt(k, addr + i * PAGE, salt * 1000 + i);
            writeInt(k, addr + i * PAGE + PAGE - 4, -(salt * 1000 + i));
        }
    }

    /** Asserts the contents written by {@link #fill} with the same {@code salt}. */
    static void check(Kernel k, long addr, int pages, int salt) {
        for (int i = 0; i < pages; i++) {
            assertEquals(salt * 1000 + i, readInt(k, addr + i * PAGE), "first int of page " + i);
            assertEquals(-(salt * 1000 + i), readInt(k, addr + i * PAGE + PAGE - 4), "last int of page " + i);
        }
    }
}
