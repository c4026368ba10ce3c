package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Ksm;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code madvise(MADV_UNMERGEABLE)}: {@code break_ksm} unshares each KSM page of the range with
 * a {@code FAULT_FLAG_UNSHARE} fault, whose {@code wp_page_copy} is one {@code MMU_NOTIFY_CLEAR}
 * of the page, owner none, blockable, under the mmap lock for write (madvise's lock for this
 * advice); the copy is mapped read-only and exclusive, so the next write reuses it without an
 * invalidation; the VMA part loses {@code VM_MERGEABLE}.
 */
class KsmUnmergeTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long BASE = 0x4c00_0000L;
    private static final int NPAGES = 4;
    private static final String MMAP = "mm->mmap_lock";
    private static final String MAP = "mmu_notifier_invalidate_range_start:EXCLUSIVE";

    private interface Body {
        void run(Kernel k, MmStruct mm, ContextRecorder rec);
    }

    /** NPAGES pages at BASE holding 7 (the last 8), a recorder over them; pages 0-2 merged by ksmd. */
    private static void merged(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        AtomicInteger done = new AtomicInteger();
        ContextRecorder rec = new ContextRecorder();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(BASE, Mmap.mmap(mm, BASE, NPAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0));
            for (int i = 0; i < NPAGES; i++) {
                byte[] b = new byte[(int) PAGE];
                java.util.Arrays.fill(b, (byte) (i == NPAGES - 1 ? 8 : 7));
                assertEquals(0, UserAccess.copyToUser(k, BASE + i * PAGE, b));
            }
            assertEquals(0, Madvise.madvise(mm, BASE, NPAGES * PAGE, Ksm.MADV_MERGEABLE));
            assertEquals(2, Ksm.ksmdScan(k));
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

    private static boolean mergeable(MmStruct mm, long addr) {
        mm.mmapReadLock();
        try {
            return mm.vmas("test").vmaLookup(addr).hasAny(VmFlags.VM_MERGEABLE);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    @Test
    void unmergeable_isOneClearPerKsmPage_fromTheUnsharingFault_underTheMmapWriteLock() {
        merged(41, (k, mm, rec) -> {
            long kpfn = Pte.pfn(mm.ptePeek(BASE));
            assertTrue(PhysMem.of(k).pfnToPage(kpfn).testFlag(Ksm.PG_KSM));
            assertEquals(0, Madvise.madvise(mm, BASE, 2 * PAGE, Ksm.MADV_UNMERGEABLE));
            List<ContextRecorder.Seen> seen = rec.seen();
            assertEquals(2, seen.size(), seen.toString());
            for (int i = 0; i < 2; i++) {
                ContextRecorder.Seen s = seen.get(i);
                assertEquals(MmuNotifierEvent.MMU_NOTIFY_CLEAR, s.event(), "wp_page_copy: CLEAR");
                assertNull(s.owner());
                assertEquals(BASE + i * PAGE, s.start());
                assertEquals(BASE + (i + 1) * PAGE, s.end());
                assertTrue(s.blockable());
                assertEquals(List.of(MMAP + ":EXCLUSIVE", MAP), s.held(), "madvise(MADV_UNMERGEABLE) takes it for write");
                assertTrue(s.vmaAtStart(), "the VMA of the range is linked");
                long pte = mm.ptePeek(BASE + i * PAGE);
                assertNotEquals(kpfn, Pte.pfn(pte), "a copy");
                assertFalse(Pte.isWrite(pte), "unsharing maps the copy read-only");
                assertFalse(PhysMem.of(k).pfnToPage(Pte.pfn(pte)).testFlag(Ksm.PG_KSM));
                assertEquals(7, readByte(k, BASE + i * PAGE));
            }
            assertNotEquals(Pte.pfn(mm.ptePeek(BASE)), Pte.pfn(mm.ptePeek(BASE + PAGE)));
            assertEquals(kpfn, Pte.pfn(mm.ptePeek(BASE + 2 * PAGE)), "outside the range: still the KSM page");
            assertFalse(mergeable(mm, BASE));
            assertFalse(mergeable(mm, BASE + PAGE));
            assertTrue(mergeable(mm, BASE + 2 * PAGE), "the VMA was split at the end of the range");

            assertEquals(0, UserAccess.copyToUser(k, BASE, new byte[] {1}));
            assertEquals(2, rec.seen().size(), "the exclusive copy is reused by a write: no invalidation");
            assertEquals(1, readByte(k, BASE));
            assertEquals(0, Madvise.madvise(mm, BASE, 2 * PAGE, Ksm.MADV_UNMERGEABLE), "no longer mergeable");
            assertEquals(2, rec.seen().size());
        });
    }

    @Test
    void unmergeable_ofPagesThatAreNoKsmPages_onlyClearsTheFlag() {
        merged(42, (k, mm, rec) -> {
            long pfn3 = Pte.pfn(mm.ptePeek(BASE + 3 * PAGE));
            assertEquals(0, Madvise.madvise(mm, BASE + 3 * PAGE, PAGE, Ksm.MADV_UNMERGEABLE));
            assertEquals(List.of(), rec.seen(), "page 3 was never merged");
            assertEquals(pfn3, Pte.pfn(mm.ptePeek(BASE + 3 * PAGE)));
            assertFalse(mergeable(mm, BASE + 3 * PAGE));
            assertEquals(-Errno.EINVAL, Madvise.madvise(mm, BASE + 1, PAGE, Ksm.MADV_UNMERGEABLE));
            assertEquals(-Errno.ENOMEM, Madvise.madvise(mm, BASE, (NPAGES + 1) * PAGE, Ksm.MADV_UNMERGEABLE),
                    "a hole after the mapping; the mapped part is done");
            assertEquals(3, rec.seen().size(), "pages 0-2 unshared: " + rec.seen());
            assertFalse(mergeable(mm, BASE));
        });
    }
}
