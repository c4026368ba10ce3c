package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.NumaBalancing;
import hmm4j.kernel.mm.PageCache;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Userfaultfd;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The PTE-level NUMA hinting fault, {@code do_numa_page} → {@code numa_rebuild_single_mapping}:
 * a hinting entry gets the VMA's protection back, and is made writable without a write fault
 * when the VMA's own protection is writable (a shared writable mapping) or, in a private
 * writable VMA ({@code vma_wants_manual_pte_write_upgrade}), when {@code can_change_pte_writable}
 * allows it (an exclusive anonymous page, not uffd-wp); a page shared after fork, a page-cache
 * page of a private mapping, a read-only VMA and a uffd-wp entry stay read-only. Never an
 * invalidation.
 */
class NumaHintingTest {
    private static final String PROT_VMA = "MMU_NOTIFY_PROTECTION_VMA";

    /** Marks [a, a + PAGE) and asserts it became a read-only hinting entry. */
    private static void mark(MmStruct mm, long a) {
        assertEquals(1, NumaBalancing.taskNumaWork(mm, a, a + PAGE));
        long e = pte(mm, a);
        assertTrue(Pte.isProtNone(e) && !Pte.isWrite(e), "a hinting entry: " + Pte.toString(e));
    }

    @Test
    void aReadFault_onAnExclusiveAnonymousPage_restoresItWritable_soTheWriteNeedsNoFault() {
        inProcess(21, (k, self, mm, ops) -> {
            long a = mapAnon(mm, 1, RW);
            write(k, a, pattern(64, 1));
            long pfn = Pte.pfn(pte(mm, a));
            mark(mm, a);
            assertEquals(List.of(start(PROT_VMA, a, a + PAGE, true), end(PROT_VMA, a, a + PAGE)), ops.events());
            ops.clear();

            assertArrayEquals(pattern(64, 1), read(k, a, 64));

            long e = pte(mm, a);
            assertFalse(Pte.isProtNone(e), Pte.toString(e));
            assertTrue(Pte.isYoung(e), Pte.toString(e));
            assertTrue(Pte.isWrite(e), "can_change_pte_writable: an exclusive anonymous page of a VM_WRITE VMA");
            assertEquals(pfn, Pte.pfn(e));
            assertEquals(List.of(), ops.events(), "do_numa_page sends no invalidation");
            // The entry is writable already: the access path writes without a fault, and the
            // page is the same one.
            write(k, a + 8, pattern(8, 2));
            assertEquals(pfn, Pte.pfn(pte(mm, a)));
            assertEquals(List.of(), ops.events());
        });
    }

    @Test
    void aWriteFault_onAHintingEntry_restoresIt_andWritesTheSamePage_withoutAnyInvalidation() {
        inProcess(22, (k, self, mm, ops) -> {
            long a = mapAnon(mm, 1, RW);
            write(k, a, new byte[] {1});
            long pfn = Pte.pfn(pte(mm, a));
            mark(mm, a);
            ops.clear();

            write(k, a + 16, pattern(16, 3));

            long e = pte(mm, a);
            assertTrue(Pte.isWrite(e) && Pte.isDirty(e) && !Pte.isProtNone(e), Pte.toString(e));
            assertEquals(pfn, Pte.pfn(e), "reused, not copied");
            assertArrayEquals(pattern(16, 3), read(k, a + 16, 16));
            assertEquals(List.of(), ops.events());
        });
    }

    @Test
    void aPageSharedAfterFork_isRestoredReadOnly_andAWriteThenCopiesIt() {
        inProcess(23, (k, self, mm, ops) -> {
            long a = mapAnon(mm, 1, RW);
            write(k, a, new byte[] {7});
            long pfn = Pte.pfn(pte(mm, a));
            mark(mm, a);
            Completion parentDone = new Completion(k, "parent done");
            Task child = Process.fork(self, "child", c -> {
                parentDone.waitForCompletion();
                assertArrayEquals(new byte[] {7}, read(k, a, 1), "the child still sees the old contents");
            });
            assertEquals(2, PhysMem.of(k).pfnToPage(pfn).mapcount(), "fork shared the page");
            ops.clear();

            assertArrayEquals(new byte[] {7}, read(k, a, 1));

            long e = pte(mm, a);
            assertFalse(Pte.isProtNone(e), Pte.toString(e));
            assertFalse(Pte.isWrite(e), "not PageAnonExclusive: COW must see the next write");
            assertEquals(pfn, Pte.pfn(e));
            assertEquals(List.of(), ops.events());

            write(k, a, new byte[] {8});
            assertNotEquals(pfn, Pte.pfn(pte(mm, a)), "the write took the COW path and copied");
            parentDone.complete();
            child.join();
        });
    }

    @Test
    void inAReadOnlyVma_theEntryIsRestoredReadOnly() {
        inProcess(24, (k, self, mm, ops) -> {
            long a = mapAnon(mm, 1, RW);
            write(k, a, new byte[] {4});
            assertEquals(0, Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_READ));
            mark(mm, a);
            ops.clear();

            assertArrayEquals(new byte[] {4}, read(k, a, 1));

            long e = pte(mm, a);
            assertFalse(Pte.isProtNone(e), Pte.toString(e));
            assertFalse(Pte.isWrite(e), "no VM_WRITE");
            assertNotEquals(0, UserAccess.copyToUser(k, a, new byte[] {5}), "a write is refused");
            assertEquals(List.of(), ops.events());
        });
    }

    @Test
    void aUffdWpEntry_isRestoredReadOnly_soTheWriteStillFaultsToTheUser() {
        inProcess(25, (k, self, mm, ops) -> {
            long a = mapAnon(mm, 1, RW);
            write(k, a, new byte[] {3});
            Userfaultfd uffd = Userfaultfd.create(mm);
            assertEquals(0, uffd.register(a, PAGE, Userfaultfd.UFFDIO_REGISTER_MODE_WP));
            assertEquals(0, uffd.writeprotect(a, PAGE, true));
            mark(mm, a);
            ops.clear();

            assertArrayEquals(new byte[] {3}, read(k, a, 1));

            long e = pte(mm, a);
            assertFalse(Pte.isProtNone(e), Pte.toString(e));
            assertFalse(Pte.isWrite(e), "userfaultfd_pte_wp: can_change_pte_writable refuses");
            assertNotEquals(0, UserAccess.copyToUser(k, a, new byte[] {9}), "the write faults to the user");
            assertEquals(0, uffd.writeprotect(a, PAGE, false));
            write(k, a, new byte[] {9});
            assertArrayEquals(new byte[] {9}, read(k, a, 1));
        });
    }

    @Test
    void aSharedWritableMapping_isRestoredWritable_aPrivateFileMappingReadOnly() {
        inProcess(26, (k, self, mm, ops) -> {
            long s = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            assertFalse(Errno.isError(s));
            assertArrayEquals(new byte[2], read(k, s, 2));
            assertTrue(Pte.isWrite(pte(mm, s)), "a read fault of a shared writable mapping maps it writable");
            mark(mm, s);

            ShmemFile file = PageCache.of(k).createFile("data", PAGE);
            long p = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_PRIVATE, file, 0);
            assertFalse(Errno.isError(p));
            assertArrayEquals(new byte[2], read(k, p, 2));
            mark(mm, p);
            ops.clear();

            assertArrayEquals(new byte[2], read(k, s, 2));
            assertArrayEquals(new byte[2], read(k, p, 2));

            long se = pte(mm, s);
            assertTrue(!Pte.isProtNone(se) && Pte.isWrite(se),
                    "a shared VMA's own protection is writable (no write notification): " + Pte.toString(se));
            long pe = pte(mm, p);
            assertTrue(!Pte.isProtNone(pe) && !Pte.isWrite(pe),
                    "a page-cache page of a private mapping is not anonymous: " + Pte.toString(pe));
            assertEquals(List.of(), ops.events());
        });
    }
}
