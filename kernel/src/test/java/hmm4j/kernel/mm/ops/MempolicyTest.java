package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.Mempolicy;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code mbind(MPOL_MF_MOVE)} and {@code migrate_pages(2)}: each page moved is one
 * {@code MMU_NOTIFY_CLEAR} of exactly that page, owner none, blockable, sent by
 * {@code try_to_migrate_one} with the folio lock and the anon_vma rwsem held and no mmap lock
 * (both drop it after queueing); pages already on an allowed node are not moved; a page that
 * cannot move fails {@code MPOL_MF_STRICT} with {@code -EIO}.
 */
class MempolicyTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long BASE = 0x4800_0000L;
    private static final int NPAGES = 3;
    private static final String MAP = "mmu_notifier_invalidate_range_start:EXCLUSIVE";
    private static final String FOLIO = Rmap.FOLIO_LOCK + ":EXCLUSIVE";
    private static final String ANON_VMA = Rmap.ANON_VMA_RWSEM + ":SHARED";

    private interface Body {
        void run(Kernel k, MmStruct mm, ContextRecorder rec);
    }

    /** A process with NPAGES private pages at BASE, page i holding i + 1, a recorder over them. */
    private static void inProcess(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        AtomicInteger done = new AtomicInteger();
        ContextRecorder rec = new ContextRecorder();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(BASE, Mmap.mmap(mm, BASE, NPAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0));
            for (int i = 0; i < NPAGES; i++) {
                assertEquals(0, UserAccess.copyToUser(k, BASE + i * PAGE, new byte[] {(byte) (i + 1)}));
            }
            assertEquals(0, rec.sub.mmuIntervalNotifierInsert(mm, BASE, NPAGES * PAGE, rec));
            body.run(k, mm, rec);
            rec.sub.mmuIntervalNotifierRemove();
            done.incrementAndGet();
        });
        assertClean(k.run());
        assertEquals(1, done.get(), "the process ran to its end");
    }

    private static int nodeOf(Kernel k, MmStruct mm, long addr) {
        return PhysMem.of(k).pfnToPage(Pte.pfn(mm.ptePeek(addr))).nid();
    }

    private static byte readByte(Kernel k, long addr) {
        byte[] b = new byte[1];
        assertEquals(0, UserAccess.copyFromUser(k, b, addr));
        return b[0];
    }

    private static void assertMigrationClears(List<ContextRecorder.Seen> seen, long first, int pages) {
        assertEquals(pages, seen.size(), seen.toString());
        for (int i = 0; i < pages; i++) {
            ContextRecorder.Seen s = seen.get(i);
            assertEquals(MmuNotifierEvent.MMU_NOTIFY_CLEAR, s.event(), "try_to_migrate_one: CLEAR");
            assertNull(s.owner());
            assertEquals(first + i * PAGE, s.start());
            assertEquals(first + (i + 1) * PAGE, s.end());
            assertTrue(s.blockable());
            assertEquals(List.of(FOLIO, ANON_VMA, MAP), s.held(), "migrated after the mmap lock was dropped");
            assertTrue(s.vmaAtStart(), "the VMA of the range is linked");
        }
    }

    @Test
    void mbindMove_clearsEachPageOutsideTheMask_withoutTheMmapLock_andPlacesItOnTheMasksNode() {
        inProcess(31, (k, mm, rec) -> {
            long oldPfn = Pte.pfn(mm.ptePeek(BASE + PAGE));
            assertEquals(0, Mempolicy.mbind(mm, BASE + PAGE, 2 * PAGE, Mempolicy.MPOL_BIND, 1L << 1,
                    Mempolicy.MPOL_MF_MOVE | Mempolicy.MPOL_MF_STRICT));
            assertMigrationClears(rec.seen(), BASE + PAGE, 2);
            assertEquals(0, nodeOf(k, mm, BASE), "outside the range");
            assertEquals(1, nodeOf(k, mm, BASE + PAGE));
            assertEquals(1, nodeOf(k, mm, BASE + 2 * PAGE));
            assertNotEquals(oldPfn, Pte.pfn(mm.ptePeek(BASE + PAGE)), "a new page");
            assertEquals(2, readByte(k, BASE + PAGE));
            assertEquals(3, readByte(k, BASE + 2 * PAGE));
            long pte = mm.ptePeek(BASE + PAGE);
            assertTrue(Pte.isPresent(pte) && Pte.isWrite(pte), "the migration entry kept write access");

            int before = rec.seen().size();
            assertEquals(0, Mempolicy.mbind(mm, BASE, NPAGES * PAGE, Mempolicy.MPOL_BIND, (1L << 1) | (1L << 2),
                    Mempolicy.MPOL_MF_MOVE));
            assertMigrationClears(rec.seen().subList(before, rec.seen().size()), BASE, 1);
            assertEquals(1, nodeOf(k, mm, BASE), "only the page outside {1, 2} moved");
        });
    }

    @Test
    void mbindWithoutMove_orWithBadArguments_sendsNoInvalidation() {
        inProcess(32, (k, mm, rec) -> {
            assertEquals(0, Mempolicy.mbind(mm, BASE, NPAGES * PAGE, Mempolicy.MPOL_BIND, 1L << 1, 0));
            assertEquals(-Errno.EINVAL, Mempolicy.mbind(mm, BASE + 1, PAGE, Mempolicy.MPOL_BIND, 1L << 1,
                    Mempolicy.MPOL_MF_MOVE));
            assertEquals(-Errno.EINVAL, Mempolicy.mbind(mm, BASE, PAGE, Mempolicy.MPOL_BIND, 0, Mempolicy.MPOL_MF_MOVE));
            assertEquals(-Errno.EINVAL, Mempolicy.mbind(mm, BASE, PAGE, 42, 1L << 1, Mempolicy.MPOL_MF_MOVE));
            assertEquals(-Errno.EFAULT, Mempolicy.mbind(mm, BASE, (NPAGES + 1) * PAGE, Mempolicy.MPOL_BIND, 1L << 1,
                    Mempolicy.MPOL_MF_MOVE), "a hole at the end of the range");
            assertEquals(0, Mempolicy.mbind(mm, BASE, 0, Mempolicy.MPOL_BIND, 1L << 1, Mempolicy.MPOL_MF_MOVE));
            assertEquals(List.of(), rec.seen());
            assertEquals(0, nodeOf(k, mm, BASE));
        });
    }

    @Test
    void mbindStrict_ofAPinnedPage_isEio_andThePageStaysMapped() {
        inProcess(33, (k, mm, rec) -> {
            Page[] pages = new Page[1];
            mm.mmapReadLock();
            assertEquals(1, Gup.getUserPages(mm, BASE, 1, 0, pages));
            mm.mmapReadUnlock();
            long pfn = Pte.pfn(mm.ptePeek(BASE));
            assertEquals(-Errno.EIO, Mempolicy.mbind(mm, BASE, PAGE, Mempolicy.MPOL_BIND, 1L << 1,
                    Mempolicy.MPOL_MF_MOVE | Mempolicy.MPOL_MF_STRICT));
            assertMigrationClears(rec.seen(), BASE, 1);
            assertEquals(pfn, Pte.pfn(mm.ptePeek(BASE)), "the source is mapped back");
            assertEquals(0, nodeOf(k, mm, BASE));
            pages[0].put();
        });
    }

    @Test
    void migratePages_movesEveryPageOfTheSourceNode_oneClearPerPage_withoutTheMmapLock() {
        inProcess(34, (k, mm, rec) -> {
            assertEquals(0, Mempolicy.migratePages2(mm, 1L << 0, 1L << 3, Mempolicy.MPOL_MF_MOVE));
            assertMigrationClears(rec.seen(), BASE, NPAGES);
            for (int i = 0; i < NPAGES; i++) {
                assertEquals(3, nodeOf(k, mm, BASE + i * PAGE));
                assertEquals(i + 1, readByte(k, BASE + i * PAGE));
            }
            assertEquals(0, Mempolicy.migratePages2(mm, 1L << 3, 1L << 3, Mempolicy.MPOL_MF_MOVE));
            assertEquals(0, Mempolicy.migratePages2(mm, 1L << 0, 1L << 5, Mempolicy.MPOL_MF_MOVE),
                    "no page left on node 0");
            assertEquals(NPAGES, rec.seen().size(), "same source and destination, or no page there: nothing moved");
            assertEquals(-Errno.EINVAL, Mempolicy.migratePages2(mm, 1L << 3, 0, Mempolicy.MPOL_MF_MOVE));
        });
    }
}
