package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@code copy_to_user} / {@code copy_from_user} through the fault handler: data round-trips
 * across pages, unmapped and read-only accesses fail with {@code -EFAULT}.
 */
class UserAccessFaultTest {

    private static final long PAGE = Pte.PAGE_SIZE;

    /** Runs {@code body} as a process on a checked kernel and asserts it ran cleanly to its end. */
    private static void inProcess(long seed, ProcessBody body) {
        Kernel k = checkedKernel(seed);
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            body.run(k, MmStruct.of(self));
            finished.set(true);
        });
        assertClean(k.run());
        assertTrue(finished.get(), "the process body ran to its end");
    }

    private interface ProcessBody {
        void run(Kernel k, MmStruct mm);
    }

    private static byte[] bytes(int n, int salt) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + salt);
        }
        return b;
    }

    @Test
    void copyToUserThenCopyFromUser_roundTripsAcrossAPageBoundary() {
        for (long seed : new long[] {1, 2, 3}) {
            inProcess(seed, (k, mm) -> {
                long addr = Mmap.mmapAnonymous(mm, 3 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                assertFalse(Errno.isError(addr));
                long used = PhysMem.of(k).usedPages();
                byte[] data = bytes(300, 5);
                long at = addr + PAGE - 100;
                assertEquals(0, UserAccess.copyToUser(k, at, data));
                assertEquals(used + 2, PhysMem.of(k).usedPages(), "exactly the two touched pages were allocated");
                byte[] back = new byte[300];
                assertEquals(0, UserAccess.copyFromUser(k, back, at));
                assertArrayEquals(data, back);
                byte[] around = new byte[(int) (3 * PAGE)];
                assertEquals(0, UserAccess.copyFromUser(k, around, addr));
                byte[] expected = new byte[(int) (3 * PAGE)];
                System.arraycopy(data, 0, expected, (int) (PAGE - 100), data.length);
                assertArrayEquals(expected, around, "nothing outside the written range changed");
            });
        }
    }

    @Test
    void readingAnUnmappedAddress_isEfault() {
        inProcess(4, (k, mm) -> {
            long addr = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            assertEquals(0, Mmap.munmap(mm, addr, 2 * PAGE));
            byte[] buf = new byte[8];
            Arrays.fill(buf, (byte) 0x11);
            assertEquals(-Errno.EFAULT, UserAccess.copyFromUser(k, buf, addr));
            assertEquals(-Errno.EFAULT, UserAccess.copyToUser(k, addr + PAGE, buf));
            assertEquals(-Errno.EFAULT, UserAccess.copyFromUser(k, buf, -PAGE), "negative address");
            assertEquals(-Errno.EFAULT, UserAccess.copyFromUser(k, buf, Pte.TASK_SIZE), "beyond TASK_SIZE");
        });
    }

    @Test
    void copySpanningIntoAnUnmappedPage_isEfault() {
        inProcess(5, (k, mm) -> {
            long addr = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            assertEquals(0, Mmap.munmap(mm, addr + PAGE, PAGE));
            assertEquals(0, UserAccess.copyToUser(k, addr + PAGE - 4, new byte[4]), "last bytes of the mapped page");
            assertEquals(-Errno.EFAULT, UserAccess.copyToUser(k, addr + PAGE - 4, new byte[8]));
            assertEquals(-Errno.EFAULT, UserAccess.copyFromUser(k, new byte[8], addr + PAGE - 4));
        });
    }

    @Test
    void writingAReadOnlyMapping_isEfault_readingItGivesZeros() {
        inProcess(6, (k, mm) -> {
            long addr = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_READ);
            assertFalse(Errno.isError(addr));
            assertEquals(-Errno.EFAULT, UserAccess.copyToUser(k, addr, new byte[] {1}), "write to PROT_READ");
            byte[] buf = new byte[32];
            Arrays.fill(buf, (byte) 0x7f);
            assertEquals(0, UserAccess.copyFromUser(k, buf, addr));
            assertArrayEquals(new byte[32], buf, "anonymous memory reads as zeros");
            assertEquals(-Errno.EFAULT, UserAccess.copyToUser(k, addr, new byte[] {1}), "still read-only after a read");
        });
    }

    @Test
    void aNoneMapping_canBeNeitherReadNorWritten() {
        inProcess(7, (k, mm) -> {
            long addr = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_NONE);
            assertFalse(Errno.isError(addr));
            assertEquals(-Errno.EFAULT, UserAccess.copyFromUser(k, new byte[1], addr));
            assertEquals(-Errno.EFAULT, UserAccess.copyToUser(k, addr, new byte[1]));
        });
    }

    @Test
    void handleMmFault_checksTheVmaPermissions() {
        inProcess(8, (k, mm) -> {
            long ro = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_READ);
            mm.mmapReadLock();
            try {
                Vma vma = mm.vmaLookup(ro);
                assertEquals(Fault.VM_FAULT_SIGSEGV, Fault.handleMmFault(mm, vma, ro, Fault.FAULT_FLAG_WRITE));
                assertEquals(0, Fault.handleMmFault(mm, vma, ro, 0));
                assertEquals(Fault.VM_FAULT_SIGSEGV, Fault.handleMmFault(mm, vma, ro + PAGE, 0), "outside the VMA");
            } finally {
                mm.mmapReadUnlock();
            }
        });
    }

    @Test
    void sharedAnonymousMapping_roundTripsWithinTheProcess() {
        inProcess(9, (k, mm) -> {
            long addr = Mmap.mmap(mm, 0, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            assertFalse(Errno.isError(addr));
            byte[] data = bytes(64, 9);
            assertEquals(0, UserAccess.copyToUser(k, addr + PAGE - 32, data));
            byte[] back = new byte[64];
            assertEquals(0, UserAccess.copyFromUser(k, back, addr + PAGE - 32));
            assertArrayEquals(data, back);
        });
    }

    @Test
    void aKernelThreadWithoutAnMm_getsEfault() {
        Kernel k = checkedKernel(10);
        int[] ret = new int[1];
        k.spawnKthread("kworker", self -> ret[0] = UserAccess.copyFromUser(k, new byte[1], 0x400000L));
        assertClean(k.run());
        assertEquals(-Errno.EFAULT, ret[0]);
    }

    @Test
    void mmapArgumentErrors() {
        inProcess(11, (k, mm) -> {
            assertEquals(-Errno.EINVAL, Mmap.mmapAnonymous(mm, 0, Mmap.PROT_READ));
            assertEquals(-Errno.EINVAL, Mmap.mmap(mm, 0, PAGE, Mmap.PROT_READ,
                    Mmap.MAP_SHARED | Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, null, 0));
            assertEquals(-Errno.EINVAL, Mmap.munmap(mm, 1, PAGE), "unaligned munmap");
        });
    }
}
