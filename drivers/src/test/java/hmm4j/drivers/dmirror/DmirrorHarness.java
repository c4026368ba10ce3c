package hmm4j.drivers.dmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Helpers for the dmirror tests: a process on a controlled kernel with the checkers installed,
 * mappings, user-memory accessors that assert as they go, and the command helper of
 * hmm-tests.c ({@code hmm_dmirror_cmd}).
 */
final class DmirrorHarness {
    static final long PAGE = Pte.PAGE_SIZE;
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;

    private DmirrorHarness() {
    }

    /** A process body. */
    interface Body {
        void run(Kernel k, Task self, MmStruct mm) throws Exception;
    }

    /** A controlled kernel with a fixed seed and the checkers (lockdep, sanitizer) installed. */
    static Kernel checkedKernel(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        return k;
    }

    /** Runs {@code body} as process "proc" on a checked kernel; asserts a clean run that reached the body's end. */
    static Kernel inProcess(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            body.run(k, self, MmStruct.of(self));
            finished.set(true);
        });
        assertClean(k.run());
        assertTrue(finished.get(), "the process body ran to its end");
        return k;
    }

    /** Runs {@code body} as process "proc" on a checked kernel and returns the result, whatever it is. */
    static RunResult runProcess(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        Process.spawn(k, "proc", self -> body.run(k, self, MmStruct.of(self)));
        return k.run();
    }

    static String describe(RunResult r) {
        return "seed " + r.seed() + ": " + r.failures().stream().map(f -> f.headline() + " " + f.details())
                .collect(Collectors.joining("; "));
    }

    static void assertClean(RunResult r) {
        assertTrue(r.clean() && r.failures().isEmpty(), () -> "expected a clean run, got " + describe(r));
    }

    /** Private anonymous memory of {@code pages} pages with {@code prot}. */
    static long mapAnon(MmStruct mm, long pages, int prot) {
        long addr = Mmap.mmapAnonymous(mm, pages * PAGE, prot);
        assertFalse(Errno.isError(addr), "mmap failed: " + addr);
        return addr;
    }

    /** {@code hmm_dmirror_cmd}: runs {@code cmd} on [addr, addr + npages pages) with the buffer {@code ptr}. */
    static HmmDmirrorCmd cmd(DmirrorFile f, int cmd, long addr, long ptr, long npages, int expectedRet) {
        HmmDmirrorCmd record = new HmmDmirrorCmd(addr, ptr, npages);
        assertEquals(expectedRet, f.ioctl(cmd, record), () -> HmmDmirrorUapi.commandName(cmd) + " " + record);
        return record;
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

    /** Reads {@code len} bytes at {@code addr} as the current task. */
    static byte[] readBytes(Kernel k, long addr, int len) {
        byte[] b = new byte[len];
        assertEquals(0, UserAccess.copyFromUser(k, b, addr), "copy_from_user at 0x" + Long.toHexString(addr));
        return b;
    }

    /** Writes {@code salt * 1000 + i} into the first int of each page {@code i} of {@code pages} pages, its negation into the last. */
    static void fill(Kernel k, long addr, int pages, int salt) {
        for (int i = 0; i < pages; i++) {
            writeInt(k, addr + i * PAGE, salt * 1000 + i);
            writeInt(k, addr + i * PAGE + PAGE - 4, -(salt * 1000 + i));
        }
    }

    /** Asserts the contents {@link #fill} wrote with {@code salt}. */
    static void check(Kernel k, long addr, int pages, int salt) {
        for (int i = 0; i < pages; i++) {
            assertEquals(salt * 1000 + i, readInt(k, addr + i * PAGE), "first int of page " + i);
            assertEquals(-(salt * 1000 + i), readInt(k, addr + i * PAGE + PAGE - 4), "last int of page " + i);
        }
    }

    /** The CPU entry of {@code addr}, read under the page-table lock. */
    static long pte(MmStruct mm, long addr) {
        mm.pageTableLock().lock();
        try {
            return mm.pgd("test").get(addr);
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    /** Ordinary pages in use. */
    static long usedPages(Kernel k) {
        return PhysMem.of(k).usedPages();
    }
}
