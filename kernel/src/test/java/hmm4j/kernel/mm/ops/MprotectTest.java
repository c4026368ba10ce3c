package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.assertNothingAllocated;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.insertVma;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.vmaAt;
import static hmm4j.kernel.mm.ops.MmHarness.vmas;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.PageCache;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.sim.Kernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code mprotect}: VMA split and merge, the entry changes, the
 * {@code MMU_NOTIFY_PROTECTION_VMA} invalidations (one per changed VMA piece, exact range),
 * the error codes, and that write access comes back through the write fault.
 */
class MprotectTest {

    private static final String PROT_VMA = "MMU_NOTIFY_PROTECTION_VMA";

    @Test
    void removingWrite_splitsTheVma_writeProtectsItsEntries_withOneInvalidationOverExactlyTheRange() {
        Kernel k = inProcess(31, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            write(kk, a, pattern((int) (4 * PAGE), 1));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(0, Mprotect.mprotect(mm, a + PAGE, 2 * PAGE, Mmap.PROT_READ));

            assertEquals(List.of(start(PROT_VMA, a + PAGE, a + 3 * PAGE, true), end(PROT_VMA, a + PAGE, a + 3 * PAGE)),
                    ops.events());
            List<Vma> v = vmas(mm);
            assertEquals(3, v.size(), v.toString());
            assertEquals(a + PAGE, v.get(1).vmStart());
            assertEquals(a + 3 * PAGE, v.get(1).vmEnd());
            assertFalse(v.get(1).hasAny(VmFlags.VM_WRITE));
            assertTrue(v.get(0).hasAny(VmFlags.VM_WRITE) && v.get(2).hasAny(VmFlags.VM_WRITE));
            assertTrue(Pte.isWrite(pte(mm, a)));
            assertTrue(Pte.isWrite(pte(mm, a + 3 * PAGE)));
            for (long p = a + PAGE; p < a + 3 * PAGE; p += PAGE) {
                long e = pte(mm, p);
                assertTrue(Pte.isPresent(e) && !Pte.isWrite(e) && !Pte.isProtNone(e), Pte.toString(e));
            }
            assertEquals(-Errno.EFAULT, UserAccess.copyToUser(kk, a + PAGE, new byte[] {1}));
            assertArrayEquals(pattern((int) (4 * PAGE), 1), read(kk, a, (int) (4 * PAGE)), "contents kept");
            assertEquals(used, PhysMem.of(kk).usedPages());
        });
        assertNothingAllocated(k);
    }

    @Test
    void addingWriteBack_mergesTheVmas_leavesEntriesReadOnly_andTheWriteFaultReusesThePage() {
        inProcess(32, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 3, RW);
            write(kk, a, pattern((int) (3 * PAGE), 2));
            assertEquals(0, Mprotect.mprotect(mm, a + PAGE, PAGE, Mmap.PROT_READ));
            long pfn = Pte.pfn(pte(mm, a + PAGE));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(0, Mprotect.mprotect(mm, a + PAGE, PAGE, RW));

            assertEquals(List.of(start(PROT_VMA, a + PAGE, a + 2 * PAGE, true), end(PROT_VMA, a + PAGE, a + 2 * PAGE)),
                    ops.events());
            assertEquals(1, vmas(mm).size(), "merged back into one VMA");
            assertFalse(Pte.isWrite(pte(mm, a + PAGE)), "write comes back through the write fault, not mprotect");
            ops.clear();
            write(kk, a + PAGE + 8, new byte[] {9});
            assertEquals(List.of(), ops.events(), "an exclusive anonymous page is reused: no COW invalidation");
            long e = pte(mm, a + PAGE);
            assertTrue(Pte.isWrite(e));
            assertEquals(pfn, Pte.pfn(e), "same page");
            assertEquals(used, PhysMem.of(kk).usedPages(), "nothing copied");
        });
    }

    @Test
    void aRangeOverTwoVmas_getsOneInvalidationPerVma() {
        inProcess(33, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            long s = Mmap.mmap(mm, a + 2 * PAGE, 2 * PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED,
                    null, 0);
            assertEquals(a + 2 * PAGE, s);
            write(kk, a, pattern((int) (4 * PAGE), 3));
            ops.clear();

            assertEquals(0, Mprotect.mprotect(mm, a + PAGE, 2 * PAGE, Mmap.PROT_READ));

            assertEquals(List.of(start(PROT_VMA, a + PAGE, a + 2 * PAGE, true), end(PROT_VMA, a + PAGE, a + 2 * PAGE),
                    start(PROT_VMA, a + 2 * PAGE, a + 3 * PAGE, true), end(PROT_VMA, a + 2 * PAGE, a + 3 * PAGE)),
                    ops.events());
            assertEquals(4, vmas(mm).size(), vmas(mm).toString());
            assertTrue(vmaAt(mm, a + 2 * PAGE).isShared(), "the shared VMA keeps VM_SHARED");
            assertFalse(vmaAt(mm, a + PAGE).isShared(), "the private one does not gain it");
            assertFalse(Pte.isWrite(pte(mm, a + 2 * PAGE)));
            assertTrue(Pte.isWrite(pte(mm, a + 3 * PAGE)));
        });
    }

    @Test
    void aVmaThatAlreadyHasTheProtection_isLeftAloneWithoutInvalidation() {
        inProcess(34, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, Mmap.PROT_READ);
            ops.clear();
            assertEquals(0, Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_READ));
            assertEquals(List.of(), ops.events());
            assertEquals(1, vmas(mm).size(), "not split");
        });
    }

    @Test
    void protNone_keepsThePagesButMakesThemUnreachable_untilTheProtectionComesBack() {
        Kernel k = inProcess(35, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, pattern(64, 4));
            read(kk, a + PAGE, 1);
            assertTrue(Pte.isZero(pte(mm, a + PAGE)));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(0, Mprotect.mprotect(mm, a, 2 * PAGE, Mmap.PROT_NONE));

            assertEquals(List.of(start(PROT_VMA, a, a + 2 * PAGE, true), end(PROT_VMA, a, a + 2 * PAGE)), ops.events());
            for (long p = a; p < a + 2 * PAGE; p += PAGE) {
                long e = pte(mm, p);
                assertTrue(Pte.isPresent(e) && Pte.isProtNone(e) && !Pte.isWrite(e), Pte.toString(e));
            }
            assertTrue(Pte.isZero(pte(mm, a + PAGE)), "still the zero page");
            assertEquals(used, PhysMem.of(kk).usedPages(), "no page freed");
            assertEquals(-Errno.EFAULT, UserAccess.copyFromUser(kk, new byte[1], a));
            assertEquals(-Errno.EFAULT, UserAccess.copyToUser(kk, a, new byte[1]));

            assertEquals(0, Mprotect.mprotect(mm, a, 2 * PAGE, Mmap.PROT_READ));
            assertFalse(Pte.isProtNone(pte(mm, a)));
            assertArrayEquals(pattern(64, 4), read(kk, a, 64));
            assertEquals(-Errno.EFAULT, UserAccess.copyToUser(kk, a, new byte[1]), "read-only now");
        });
        assertNothingAllocated(k);
    }

    @Test
    void addingWriteToASharedMapping_leavesEntriesReadOnly_untilTheWriteFaultSetsTheWriteBit() {
        inProcess(36, (kk, self, mm, ops) -> {
            long a = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            write(kk, a, new byte[] {1, 2});
            long pfn = Pte.pfn(pte(mm, a));
            assertEquals(0, Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_READ));
            assertFalse(Pte.isWrite(pte(mm, a)));
            assertEquals(0, Mprotect.mprotect(mm, a, PAGE, RW));
            assertFalse(Pte.isWrite(pte(mm, a)));
            ops.clear();
            write(kk, a + 2, new byte[] {3});
            assertEquals(List.of(), ops.events(), "a shared page is never copied");
            assertTrue(Pte.isWrite(pte(mm, a)));
            assertEquals(pfn, Pte.pfn(pte(mm, a)));
            assertArrayEquals(new byte[] {1, 2, 3}, read(kk, a, 3));
        });
    }

    @Test
    void errors_changeNothing() {
        inProcess(37, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            assertEquals(0, Mmap.munmap(mm, a + 2 * PAGE, PAGE));
            write(kk, a, new byte[] {1});
            ops.clear();
            assertEquals(-Errno.EINVAL, Mprotect.mprotect(mm, a + 1, PAGE, Mmap.PROT_READ), "unaligned");
            assertEquals(-Errno.EINVAL, Mprotect.mprotect(mm, a, PAGE, 0x8), "unknown prot bit");
            assertEquals(0, Mprotect.mprotect(mm, a, 0, Mmap.PROT_READ), "empty range");
            assertEquals(-Errno.ENOMEM, Mprotect.mprotect(mm, a, 4 * PAGE, Mmap.PROT_READ), "hole inside");
            assertEquals(-Errno.ENOMEM, Mprotect.mprotect(mm, a + 2 * PAGE, PAGE, Mmap.PROT_READ), "wholly unmapped");
            assertEquals(-Errno.ENOMEM, Mprotect.mprotect(mm, a, -1, Mmap.PROT_READ), "length wraps");
            assertEquals(-Errno.ENOMEM, Mprotect.mprotect(mm, Pte.TASK_SIZE - PAGE, 2 * PAGE, Mmap.PROT_READ),
                    "beyond the user address space");
            assertEquals(List.of(), ops.events());
            List<Vma> v = vmas(mm);
            assertEquals(2, v.size(), v.toString());
            assertTrue(v.get(0).hasAny(VmFlags.VM_WRITE) && v.get(1).hasAny(VmFlags.VM_WRITE), "no partial change");
            assertTrue(Pte.isWrite(pte(mm, a)));
        });
    }

    @Test
    void writeOnASharedMappingWithoutMayWrite_isEacces() {
        Kernel k = inProcess(38, (kk, self, mm, ops) -> {
            ShmemFile file = PageCache.of(kk).createFile("readonly-file", 2 * PAGE);
            long a = mapAnon(mm, 2, Mmap.PROT_READ);
            assertEquals(0, Mmap.munmap(mm, a, 2 * PAGE));
            // A shared mapping of a file opened read-only: VM_MAYWRITE is not set.
            insertVma(mm, new Vma(a, a + 2 * PAGE, VmFlags.VM_READ | VmFlags.VM_MAYREAD | VmFlags.VM_SHARED
                    | VmFlags.VM_MAYSHARE, file, 0));
            ops.clear();
            assertEquals(-Errno.EACCES, Mprotect.mprotect(mm, a, PAGE, RW));
            assertEquals(-Errno.EACCES, Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_EXEC), "no VM_MAYEXEC either");
            assertEquals(List.of(), ops.events());
            assertEquals(1, vmas(mm).size());
            assertEquals(0, Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_NONE), "taking access away is allowed");
            assertEquals(0, Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_READ));
            assertArrayEquals(new byte[4], read(kk, a, 4));
            assertEquals(0, Mmap.munmap(mm, a, 2 * PAGE));
            PageCache.of(kk).truncate(file, 0);
        });
        assertNothingAllocated(k);
    }
}
