package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PageCache;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.mm.Truncate;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Truncation and hole punching of a tmpfs file through {@code unmap_mapping_range}: one
 * blockable {@code MMU_NOTIFY_CLEAR} per VMA mapping the range, owner NULL, with
 * {@code i_rwsem} (write) and {@code i_mmap_rwsem} (read) held and no mmap lock; every
 * process's mapping loses the pages; truncation takes private copies too, a hole punch keeps
 * them.
 */
class TruncateTest {

    private static final int PAGES = 4;

    private static long mapFile(MmStruct mm, ShmemFile f, int flags) {
        long a = Mmap.mmap(mm, 0, PAGES * PAGE, RW, flags, f, 0);
        assertFalse(hmm4j.kernel.mm.Errno.isError(a), "mmap: " + a);
        return a;
    }

    @Test
    void truncate_unmapsEveryVmaOfTheFile_underOneBlockableClearEach_withTheFileLocksHeld() {
        Kernel k = checkedKernel(101);
        CallbackContext ops = new CallbackContext();
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            MmuNotifier sub = ops.register(mm);
            ShmemFile f = PageCache.of(k).createFile("shm", PAGES * PAGE);
            long shared = mapFile(mm, f, Mmap.MAP_SHARED);
            long priv = mapFile(mm, f, Mmap.MAP_PRIVATE);
            write(k, shared, new byte[(int) (PAGES * PAGE)]);
            write(k, shared + 3 * PAGE, new byte[] {7});
            assertEquals(7, read(k, priv + 3 * PAGE, 1)[0], "the private mapping reads the file");
            write(k, priv + 2 * PAGE, new byte[] {9});
            ops.clear();

            Truncate.shmemSetattrSize(k, f, 2 * PAGE);

            List<CallbackContext.Call> calls = ops.calls();
            assertEquals(4, calls.size(), "two VMAs, unmapped before and after the cache shrinks: " + calls);
            for (CallbackContext.Call c : calls) {
                assertEquals("MMU_NOTIFY_CLEAR", c.event());
                assertTrue(c.blockable());
                assertEquals(null, c.owner());
                assertTrue(c.holds("&sb->s_type->i_mutex_key"), c.held().toString());
                assertTrue(c.held().contains("&mapping->i_mmap_rwsem [read]"), c.held().toString());
                assertFalse(c.holds("mm->mmap_lock"), "no mmap lock: " + c.held());
                assertFalse(c.holds("mm->page_table_lock"), c.held().toString());
            }
            assertTrue(calls.stream().anyMatch(c -> c.start() == shared + 2 * PAGE && c.end() == shared + 4 * PAGE));
            assertTrue(calls.stream().anyMatch(c -> c.start() == priv + 2 * PAGE && c.end() == priv + 4 * PAGE));
            assertTrue(Pte.isNone(pte(mm, shared + 3 * PAGE)));
            assertTrue(Pte.isNone(pte(mm, priv + 2 * PAGE)), "truncation takes the private copy too (even_cows)");
            assertTrue(Pte.isPresent(pte(mm, shared)), "pages below the new size stay");
            assertEquals(2, f.nrpages());
            assertNotEquals(0, UserAccess.copyFromUser(k, new byte[1], shared + 3 * PAGE), "beyond EOF: SIGBUS");
            sub.unregister(mm);
            finished.set(true);
        });
        RunResult r = k.run();
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(Truncate.UNMAPPED_COW));
    }

    @Test
    void punchHole_unmapsTheFilePagesOfOtherProcessesToo_andKeepsPrivateCopies() {
        Kernel k = checkedKernel(102);
        CallbackContext ops = new CallbackContext();
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            ShmemFile f = PageCache.of(k).createFile("shm", PAGES * PAGE);
            long shared = mapFile(mm, f, Mmap.MAP_SHARED);
            long priv = mapFile(mm, f, Mmap.MAP_PRIVATE);
            write(k, shared, new byte[] {1});
            write(k, shared + PAGE, new byte[] {2});
            write(k, priv + PAGE, new byte[] {3});
            Completion punched = new Completion(k, "punched");
            Completion childReady = new Completion(k, "child-ready");
            var child = Process.fork(self, "child", c -> {
                MmStruct cmm = MmStruct.of(c);
                MmuNotifier sub = ops.register(cmm);
                assertEquals(1, read(k, shared, 1)[0]);
                childReady.complete();
                punched.waitForCompletion();
                assertTrue(Pte.isNone(pte(cmm, shared)), "the child's mapping of the file page is gone");
                assertEquals(3, read(k, priv + PAGE, 1)[0], "the child's private copy stays");
                assertEquals(0, read(k, shared, 1)[0], "the hole reads as zeros");
                sub.unregister(cmm);
            });
            childReady.waitForCompletion();
            Truncate.shmemPunchHole(k, f, 0, PAGE);
            punched.complete();
            child.join();
            assertTrue(ops.calls().stream().allMatch(c -> c.event().equals("MMU_NOTIFY_CLEAR") && c.blockable()
                    && c.task().equals("proc") && c.start() <= shared && c.end() > shared || c.start() == priv),
                    ops.calls().toString());
            assertArrayEquals(new byte[] {2}, read(k, shared + PAGE, 1), "outside the hole nothing changed");
            assertEquals(3, read(k, priv + PAGE, 1)[0]);
            finished.set(true);
        });
        RunResult r = k.run();
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(Truncate.UNMAPPED_FILE_PAGE));
    }
}
