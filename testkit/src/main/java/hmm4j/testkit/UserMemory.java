package hmm4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.sim.Kernel;

/**
 * User memory of the calling process task, for tests: mappings and reads and writes through
 * {@code copy_from_user} / {@code copy_to_user} (so they fault, take the mmap lock and obey
 * the pin rule as a user access does), each asserting success.
 */
public final class UserMemory {
    /** The page size. */
    public static final long PAGE = Pte.PAGE_SIZE;
    /** {@code PROT_READ | PROT_WRITE}. */
    public static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;

    private UserMemory() {
    }

    /** Private anonymous memory of {@code pages} pages with {@code prot}; asserts the mmap succeeded. */
    public static long mapAnon(MmStruct mm, long pages, int prot) {
        long addr = Mmap.mmapAnonymous(mm, pages * PAGE, prot);
        assertFalse(Errno.isError(addr), () -> "mmap of " + pages + " pages failed: " + addr);
        return addr;
    }

    /** {@link #mapAnon} read-write, then zeros written over every page, so each is present. */
    public static long mapTouched(Kernel k, MmStruct mm, int pages) {
        long addr = mapAnon(mm, pages, RW);
        assertEquals(0, UserAccess.copyToUser(k, addr, new byte[(int) (pages * PAGE)]),
                () -> "copy_to_user over the new mapping at 0x" + Long.toHexString(addr));
        return addr;
    }

    /** Writes the little-endian int {@code value} at {@code addr} as the current task. */
    public static void writeInt(Kernel k, long addr, int value) {
        byte[] b = {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)};
        assertEquals(0, UserAccess.copyToUser(k, addr, b), () -> "copy_to_user at 0x" + Long.toHexString(addr));
    }

    /** Reads the little-endian int at {@code addr} as the current task. */
    public static int readInt(Kernel k, long addr) {
        byte[] b = readBytes(k, addr, 4);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    /** Reads {@code len} bytes at {@code addr} as the current task. */
    public static byte[] readBytes(Kernel k, long addr, int len) {
        byte[] b = new byte[len];
        assertEquals(0, UserAccess.copyFromUser(k, b, addr), () -> "copy_from_user at 0x" + Long.toHexString(addr));
        return b;
    }

    /** The CPU page-table entry of {@code addr} in {@code mm}, read under the page-table lock (the caller pins mm). */
    public static long pte(MmStruct mm, long addr) {
        mm.pageTableLock().lock();
        try {
            return mm.pgd("test").get(addr);
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    /** Ordinary pages in use on {@code k}. */
    public static long usedPages(Kernel k) {
        return PhysMem.of(k).usedPages();
    }
}
