package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.ClearRefs;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Ksm;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MigratePages;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.NumaBalancing;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Userfaultfd;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The remaining invalidation sources of issue 11 item 3, each asserted as the kernel issues
 * it: the event, the range, the owner, the blockable flag and the locks lockdep says the
 * invalidating task holds at the callback (bottom of the stack first), recorded by an interval
 * subscription over the test's pages.
 */
class InvalidationSourcesTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long BASE = 0x4000_0000L;
    private static final int NPAGES = 4;
    private static final String MMAP = "mm->mmap_lock";
    private static final String MAP = "mmu_notifier_invalidate_range_start:EXCLUSIVE";
    private static final String FOLIO = Rmap.FOLIO_LOCK + ":EXCLUSIVE";
    private static final String ANON_VMA = Rmap.ANON_VMA_RWSEM + ":SHARED";

    private interface Body {
        void run(Kernel k, MmStruct mm, ContextRecorder rec);
    }

    /**
     * A process with NPAGES private anonymous pages at BASE, page i filled with {@code i + 1}
     * (or with {@code fill} for every page if not 0), a recorder subscribed over them; runs
     * {@code body} and asserts the run clean.
     */
    private static void inProcess(long seed, byte fill, Body body) {
        Kernel k = checkedKernel(seed);
        AtomicInteger done = new AtomicInteger();
        ContextRecorder rec = new ContextRecorder();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(BASE, Mmap.mmap(mm, BASE, NPAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0));
            for (int i = 0; i < NPAGES; i++) {
                byte[] b = new byte[(int) PAGE];
                java.util.Arrays.fill(b, fill != 0 ? fill : (byte) (i + 1));
                assertEquals(0, UserAccess.copyToUser(k, BASE + i * PAGE, b));
            }
            assertEquals(0, rec.sub.mmuIntervalNotifierInsert(mm, BASE, NPAGES * PAGE, rec));
            body.run(k, mm, rec);
            rec.sub.mmuIntervalNotifierRemove();
            done.incrementAndGet();
        });
        assertClean(k.run());
        assertEquals(1, done.get(), "the process ran to its end");
    }

    private static byte readByte(Kernel k, long addr) {
        byte[] b = new byte[1];
        assertEquals(0, UserAccess.copyFromUser(k, b, addr));
        return b[0];
    }

    // ---- soft-dirty and clear_refs (fs/proc/task_mmu.c) ----

    @Test
    void clearRefsSoftDirty_isOneSoftDirtyOfTheWholeAddressSpace_underTheMmapWriteLock() {
        inProcess(1, (byte) 0, (k, mm, rec) -> {
            assertEquals(0, ClearRefs.clearRefsWrite(mm, ClearRefs.CLEAR_REFS_SOFT_DIRTY));
            ContextRecorder.Seen s = rec.only(MmuNotifierEvent.MMU_NOTIFY_SOFT_DIRTY);
            assertEquals(0, s.start());
            assertEquals(MmuNotifierRange.ULONG_MAX, s.end(), "[0, ULONG_MAX)");
            assertNull(s.owner());
            assertTrue(s.blockable());
            assertEquals(List.of(MMAP + ":EXCLUSIVE", MAP), s.held(), "mmap_write_lock_killable, then the map");
            assertEquals(1, rec.seen().size(), "nothing else: " + rec.seen());
            for (int i = 0; i < NPAGES; i++) {
                long pte = mm.ptePeek(BASE + i * PAGE);
                assertTrue(Pte.isPresent(pte) && !Pte.isWrite(pte), "write-protected: " + Pte.toString(pte));
            }
            // The next write faults and makes the (exclusive) page writable again, in place.
            long pfn = Pte.pfn(mm.ptePeek(BASE));
            assertEquals(0, UserAccess.copyToUser(k, BASE, new byte[] {9}));
            assertTrue(Pte.isWrite(mm.ptePeek(BASE)));
            assertEquals(pfn, Pte.pfn(mm.ptePeek(BASE)), "reused, not copied");
            assertEquals(9, readByte(k, BASE));
            assertEquals(2, readByte(k, BASE + PAGE));
        });
    }

    @Test
    void clearRefsAll_clearsTheAccessedBits_withoutAnyInvalidation() {
        inProcess(2, (byte) 0, (k, mm, rec) -> {
            assertTrue(Pte.isYoung(mm.ptePeek(BASE)));
            assertEquals(0, ClearRefs.clearRefsWrite(mm, ClearRefs.CLEAR_REFS_ALL));
            assertEquals(0, ClearRefs.clearRefsWrite(mm, ClearRefs.CLEAR_REFS_ANON));
            assertEquals(0, ClearRefs.clearRefsWrite(mm, ClearRefs.CLEAR_REFS_MM_HIWATER_RSS));
            assertEquals(List.of(), rec.seen(), "ptep_test_and_clear_young tells no notifier");
            for (int i = 0; i < NPAGES; i++) {
                long pte = mm.ptePeek(BASE + i * PAGE);
                assertFalse(Pte.isYoung(pte), Pte.toString(pte));
                assertTrue(Pte.isWrite(pte), "only the accessed bit: " + Pte.toString(pte));
            }
            assertEquals(-Errno.EINVAL, ClearRefs.clearRefsWrite(mm, 6));
        });
    }

    // ---- NUMA balancing (kernel/sched/fair.c, mm/mempolicy.c, mm/mprotect.c) ----

    @Test
    void taskNumaWork_isOneProtectionVmaPerVma_underTheMmapReadTrylock_andTheHintingFaultRestores() {
        inProcess(3, (byte) 0, (k, mm, rec) -> {
            assertEquals(NPAGES, NumaBalancing.taskNumaWork(mm, 0, Pte.TASK_SIZE));
            ContextRecorder.Seen s = rec.only(MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA);
            assertEquals(BASE, s.start());
            assertEquals(BASE + NPAGES * PAGE, s.end(), "the VMA's range");
            assertNull(s.owner());
            assertTrue(s.blockable());
            assertEquals(List.of(MMAP + ":SHARED", MAP), s.held(), "mmap_read_trylock, then the map");
            long pte = mm.ptePeek(BASE + PAGE);
            assertTrue(Pte.isProtNone(pte) && !Pte.isWrite(pte), "a hinting entry: " + Pte.toString(pte));
            assertTrue(mm.vmas("test").vmaLookup(BASE).isAccessible(), "the VMA keeps its protection");
            int before = rec.seen().size();
            assertEquals(2, readByte(k, BASE + PAGE), "do_numa_page makes it accessible again");
            assertFalse(Pte.isProtNone(mm.ptePeek(BASE + PAGE)));
            assertEquals(before, rec.seen().size(), "the hinting fault sends no invalidation");
            assertEquals(0, UserAccess.copyToUser(k, BASE + PAGE, new byte[] {5}));
            assertTrue(Pte.isWrite(mm.ptePeek(BASE + PAGE)));
            assertEquals(1, NumaBalancing.taskNumaWork(mm, 0, Pte.TASK_SIZE),
                    "only the restored entry: hinting entries are left alone");
        });
    }

    // ---- MADV_COLD / MADV_PAGEOUT (mm/madvise.c) ----

    @Test
    void madviseCold_agesTheEntries_withoutAnyInvalidation() {
        inProcess(4, (byte) 0, (k, mm, rec) -> {
            assertEquals(0, Madvise.madvise(mm, BASE, NPAGES * PAGE, Madvise.MADV_COLD));
            assertEquals(List.of(), rec.seen());
            assertFalse(Pte.isYoung(mm.ptePeek(BASE)));
            assertTrue(Pte.isPresent(mm.ptePeek(BASE)));
        });
    }

    @Test
    void madvisePageout_isOneClearPerPage_fromTryToUnmapOne_underTheMmapReadLock() {
        inProcess(5, (byte) 0, (k, mm, rec) -> {
            assertEquals(0, Madvise.madvise(mm, BASE, 2 * PAGE, Madvise.MADV_PAGEOUT));
            List<ContextRecorder.Seen> clears = rec.seen();
            assertEquals(2, clears.size(), clears.toString());
            for (int i = 0; i < 2; i++) {
                ContextRecorder.Seen s = clears.get(i);
                assertEquals(MmuNotifierEvent.MMU_NOTIFY_CLEAR, s.event());
                assertEquals(BASE + i * PAGE, s.start());
                assertEquals(BASE + (i + 1) * PAGE, s.end());
                assertTrue(s.blockable());
                assertEquals(List.of(MMAP + ":SHARED", FOLIO, ANON_VMA, MAP), s.held());
            }
            assertTrue(Pte.isSwap(mm.ptePeek(BASE)));
            assertTrue(Pte.isPresent(mm.ptePeek(BASE + 2 * PAGE)), "outside the range");
            assertEquals(1, readByte(k, BASE), "swapped back in");
        });
    }

    // ---- page migration and compaction (mm/migrate.c, mm/compaction.c) ----

    @Test
    void movePages_isOneClearPerPage_withTheFolioLockAndAnonVma_butNoMmapLock() {
        inProcess(6, (byte) 0, (k, mm, rec) -> {
            long oldPfn = Pte.pfn(mm.ptePeek(BASE));
            int[] status = new int[3];
            assertEquals(0, MigratePages.movePages(mm, new long[] {BASE, BASE + PAGE, BASE + NPAGES * PAGE}, 1, status));
            assertArrayEquals(new int[] {1, 1, -Errno.EFAULT}, status);
            List<ContextRecorder.Seen> seen = rec.seen();
            assertEquals(2, seen.size(), seen.toString());
            for (int i = 0; i < 2; i++) {
                ContextRecorder.Seen s = seen.get(i);
                assertEquals(MmuNotifierEvent.MMU_NOTIFY_CLEAR, s.event(), "try_to_migrate_one: CLEAR, not MIGRATE");
                assertNull(s.owner());
                assertEquals(BASE + i * PAGE, s.start());
                assertEquals(BASE + (i + 1) * PAGE, s.end());
                assertTrue(s.blockable());
                assertEquals(List.of(FOLIO, ANON_VMA, MAP), s.held(), "move_pages migrates after mmap_read_unlock");
            }
            long pte = mm.ptePeek(BASE);
            assertTrue(Pte.isPresent(pte) && Pte.isWrite(pte), Pte.toString(pte));
            assertNotEquals(oldPfn, Pte.pfn(pte), "a new page");
            assertEquals(1, readByte(k, BASE));
            assertEquals(2, readByte(k, BASE + PAGE));
        });
    }

    @Test
    void compaction_migratesEveryPageOfTheRange_asynchronously() {
        inProcess(7, (byte) 0, (k, mm, rec) -> {
            assertEquals(NPAGES, MigratePages.compactRange(mm, BASE, BASE + NPAGES * PAGE));
            assertEquals(NPAGES, rec.seen().size());
            for (ContextRecorder.Seen s : rec.seen()) {
                assertEquals(MmuNotifierEvent.MMU_NOTIFY_CLEAR, s.event());
                assertEquals(List.of(FOLIO, ANON_VMA, MAP), s.held());
            }
            for (int i = 0; i < NPAGES; i++) {
                assertEquals(i + 1, readByte(k, BASE + i * PAGE));
            }
        });
    }

    // ---- KSM (mm/ksm.c) ----

    @Test
    void ksmMerge_isWriteProtectPageThenReplacePage_eachAClearOfThePage_underTheMmapReadAndFolioLocks() {
        inProcess(8, (byte) 7, (k, mm, rec) -> {
            assertEquals(0, UserAccess.copyToUser(k, BASE + 3 * PAGE, new byte[] {8}));
            assertEquals(0, Madvise.madvise(mm, BASE, NPAGES * PAGE, Ksm.MADV_MERGEABLE));
            assertEquals(List.of(), rec.seen(), "MADV_MERGEABLE changes no entry");
            assertEquals(2, Ksm.ksmdScan(k), "pages 1 and 2 join page 0; page 3 differs");
            List<ContextRecorder.Seen> seen = rec.seen();
            // write_protect_page of pages 0 and 1, replace_page of 1, then of 2.
            List<Long> starts = seen.stream().map(ContextRecorder.Seen::start).toList();
            assertEquals(List.of(BASE, BASE + PAGE, BASE + PAGE, BASE + 2 * PAGE, BASE + 2 * PAGE), starts,
                    seen.toString());
            for (ContextRecorder.Seen s : seen) {
                assertEquals(MmuNotifierEvent.MMU_NOTIFY_CLEAR, s.event());
                assertEquals(s.start() + PAGE, s.end());
                assertTrue(s.blockable());
                assertNull(s.owner());
                assertEquals(List.of(MMAP + ":SHARED", FOLIO, MAP), s.held());
            }
            long kpfn = Pte.pfn(mm.ptePeek(BASE));
            for (int i = 0; i < 3; i++) {
                long pte = mm.ptePeek(BASE + i * PAGE);
                assertEquals(kpfn, Pte.pfn(pte), "one KSM page");
                assertFalse(Pte.isWrite(pte));
            }
            assertNotEquals(kpfn, Pte.pfn(mm.ptePeek(BASE + 3 * PAGE)));
            // A write copies the KSM page away; the others still read the shared contents.
            assertEquals(0, UserAccess.copyToUser(k, BASE + PAGE, new byte[] {1}));
            assertNotEquals(kpfn, Pte.pfn(mm.ptePeek(BASE + PAGE)));
            assertEquals(1, readByte(k, BASE + PAGE));
            assertEquals(7, readByte(k, BASE));
            assertEquals(7, readByte(k, BASE + 2 * PAGE));
            assertEquals(0, Ksm.ksmdScan(k), "nothing left to merge");
        });
    }

    // ---- userfaultfd write-protect (mm/userfaultfd.c) ----

    @Test
    void uffdWriteprotect_isOneProtectionVmaPerPiece_underTheMmapReadLockAndMapChangingLock() {
        inProcess(9, (byte) 0, (k, mm, rec) -> {
            Userfaultfd uffd = Userfaultfd.create(mm);
            assertEquals(-Errno.ENOENT, uffd.writeprotect(BASE, PAGE, true), "not registered");
            assertEquals(0, uffd.register(BASE, NPAGES * PAGE, Userfaultfd.UFFDIO_REGISTER_MODE_WP));
            assertEquals(List.of(), rec.seen(), "registering changes no entry");
            assertEquals(0, uffd.writeprotect(BASE, NPAGES * PAGE, true));
            ContextRecorder.Seen s = rec.only(MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA);
            assertEquals(BASE, s.start());
            assertEquals(BASE + NPAGES * PAGE, s.end());
            assertNull(s.owner());
            assertTrue(s.blockable());
            assertEquals(List.of(MMAP + ":SHARED", Userfaultfd.MAP_CHANGING_LOCK + ":SHARED", MAP), s.held());
            assertFalse(Pte.isWrite(mm.ptePeek(BASE)));
            assertNotEquals(0, UserAccess.copyToUser(k, BASE, new byte[] {9}), "a write to a uffd-wp page faults to the user");
            assertEquals(1, readByte(k, BASE), "reads still work");
            uffd.setMmapChanging(true);
            assertEquals(-Errno.EAGAIN, uffd.writeprotect(BASE, PAGE, false));
            uffd.setMmapChanging(false);
            assertEquals(0, uffd.writeprotect(BASE, PAGE, false));
            assertEquals(2, rec.seen().size(), "resolving is a PROTECTION_VMA too: " + rec.seen());
            assertEquals(BASE + PAGE, rec.seen().get(1).end());
            assertEquals(0, UserAccess.copyToUser(k, BASE, new byte[] {9}));
            assertEquals(9, readByte(k, BASE));
            assertNotEquals(0, UserAccess.copyToUser(k, BASE + PAGE, new byte[] {9}), "still protected");
        });
    }
}
