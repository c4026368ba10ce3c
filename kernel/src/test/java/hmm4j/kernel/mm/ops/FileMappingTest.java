package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.assertNothingAllocated;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
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
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageCache;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * File mappings: a {@code MAP_PRIVATE} mapping reads the file through the page cache and
 * copies on write into anonymous memory the file never sees; {@code MAP_SHARED} mappings of
 * one file in two processes see each other's writes.
 */
class FileMappingTest {

    /** A file of {@code pages} pages whose page {@code i} holds {@code pattern(PAGE, 10 + i)}. */
    private static ShmemFile fileWithContents(Kernel k, String name, int pages) {
        PageCache cache = PageCache.of(k);
        ShmemFile file = cache.createFile(name, pages * PAGE);
        for (int i = 0; i < pages; i++) {
            Page p = cache.findOrCreatePage(file, i);
            p.writeBytes(0, pattern((int) PAGE, 10 + i), 0, (int) PAGE);
            p.put();
        }
        return file;
    }

    /** The first {@code n} bytes of the file's cached page {@code index}. */
    private static byte[] fileBytes(Kernel k, ShmemFile file, long index, int n) {
        Page p = PageCache.of(k).findGetPage(file, index);
        byte[] b = new byte[n];
        p.readBytes(0, b, 0, n);
        p.put();
        return b;
    }

    private static long mapFile(MmStruct mm, ShmemFile file, long pages, int prot, int flags) {
        long addr = Mmap.mmap(mm, 0, pages * PAGE, prot, flags, file, 0);
        assertFalse(Errno.isError(addr), "mmap failed: " + addr);
        return addr;
    }

    @Test
    void privateFileMapping_readsThePageCache_andAWriteCopiesIntoAnonymousMemoryTheFileNeverSees() {
        Kernel k = checkedKernel(71);
        ShmemFile file = fileWithContents(k, "data", 2);
        AtomicBoolean done = new AtomicBoolean();
        MmHarness.runIn(k, (kk, self, mm, ops) -> {
            long a = mapFile(mm, file, 2, RW, Mmap.MAP_PRIVATE);
            Page cached = PageCache.of(kk).findGetPage(file, 0);
            assertArrayEquals(pattern(64, 10), read(kk, a, 64));
            long e = pte(mm, a);
            assertEquals(cached.pfn(), Pte.pfn(e), "the page-cache page itself is mapped");
            assertFalse(Pte.isWrite(e), "read-only: a write must copy");
            assertEquals(1, cached.mapcount());
            ops.clear();

            write(kk, a + 4, new byte[] {1, 2, 3});

            assertEquals(List.of(start("MMU_NOTIFY_CLEAR", a, a + PAGE, true), end("MMU_NOTIFY_CLEAR", a, a + PAGE)),
                    ops.events(), "the COW replaces the cache page in this mm");
            long c = pte(mm, a);
            assertNotEquals(cached.pfn(), Pte.pfn(c));
            assertTrue(Pte.isWrite(c));
            Page copy = PhysMem.of(kk).pfnToPage(Pte.pfn(c));
            assertTrue(copy.isAnon() && copy.mapping() == null, "an anonymous copy");
            assertEquals(0, cached.mapcount(), "the cache page is no longer mapped here");
            byte[] expected = pattern(64, 10);
            expected[4] = 1;
            expected[5] = 2;
            expected[6] = 3;
            assertArrayEquals(expected, read(kk, a, 64));
            assertArrayEquals(pattern(64, 10), fileBytes(kk, file, 0, 64), "the file does not see the write");
            assertArrayEquals(pattern(64, 11), read(kk, a + PAGE, 64), "the other page still reads the file");
            cached.put();

            ops.clear();
            assertEquals(0, Madvise.madvise(mm, a, PAGE, Madvise.MADV_DONTNEED));
            assertArrayEquals(pattern(64, 10), read(kk, a, 64), "dropping the private copy reveals the file again");
            done.set(true);
        });
        assertClean(k.run());
        assertTrue(done.get());
        assertEquals(2, PhysMem.of(k).usedPages(), "only the file's two cached pages");
        PageCache.of(k).truncate(file, 0);
        assertNothingAllocated(k);
    }

    @Test
    void sharedMappingsOfOneFile_seeEachOthersWrites_privateOnesOnlyUntilTheyCopy() {
        Kernel k = checkedKernel(72);
        ShmemFile file = fileWithContents(k, "shared", 2);
        Completion aWrote = new Completion(k, "writer wrote");
        Completion bRead = new Completion(k, "reader read");
        Completion aWroteAgain = new Completion(k, "writer wrote again");
        Completion bDone = new Completion(k, "reader done");
        AtomicBoolean readerDone = new AtomicBoolean();
        Process.spawn(k, "writer", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = mapFile(mm, file, 2, RW, Mmap.MAP_SHARED);
            write(k, a, new byte[] {1, 1, 1});
            write(k, a + PAGE, new byte[] {2, 2});
            aWrote.complete();
            bRead.waitForCompletion();
            write(k, a, new byte[] {3});
            write(k, a + PAGE, new byte[] {4});
            aWroteAgain.complete();
            bDone.waitForCompletion();
            assertArrayEquals(new byte[] {3, 1, 1}, read(k, a, 3), "the private copy's write is not seen");
        });
        Process.spawn(k, "reader", self -> {
            MmStruct mm = MmStruct.of(self);
            long shared = mapFile(mm, file, 1, Mmap.PROT_READ, Mmap.MAP_SHARED);
            long priv = mapFile(mm, file, 2, RW, Mmap.MAP_PRIVATE);
            aWrote.waitForCompletion();
            assertArrayEquals(new byte[] {1, 1, 1}, read(k, shared, 3), "the other process's write");
            assertArrayEquals(new byte[] {1, 1, 1}, read(k, priv, 3), "a private mapping reads the file too");
            write(k, priv + PAGE + 8, new byte[] {9});
            bRead.complete();
            aWroteAgain.waitForCompletion();
            assertArrayEquals(new byte[] {3, 1, 1}, read(k, shared, 3));
            assertArrayEquals(new byte[] {3, 1, 1}, read(k, priv, 3), "not copied yet: still the cache page");
            assertArrayEquals(new byte[] {2, 2}, read(k, priv + PAGE, 2), "copied: later file writes not seen");
            write(k, priv, new byte[] {7});
            readerDone.set(true);
            bDone.complete();
        });
        assertClean(k.run());
        assertTrue(readerDone.get());
        byte[] p1 = fileBytes(k, file, 1, 2);
        assertArrayEquals(new byte[] {4, 2}, p1);
        PageCache.of(k).truncate(file, 0);
        assertNothingAllocated(k);
    }

    @Test
    void forkOfAPrivateFileMapping_sharesTheCachePage_andEachSideCopiesOnWrite() {
        AtomicBoolean childDone = new AtomicBoolean();
        ShmemFile[] file = new ShmemFile[1];
        Kernel k = inProcess(73, (kk, self, mm, ops) -> {
            file[0] = fileWithContents(kk, "forked", 1);
            long a = mapFile(mm, file[0], 1, RW, Mmap.MAP_PRIVATE);
            assertArrayEquals(pattern(16, 10), read(kk, a, 16));
            Page cached = PhysMem.of(kk).pfnToPage(Pte.pfn(pte(mm, a)));
            Completion checked = new Completion(kk, "parent checked");
            Completion childWrote = new Completion(kk, "child wrote");
            Process.fork(self, "child", c -> {
                checked.waitForCompletion();
                assertEquals(cached.pfn(), Pte.pfn(pte(MmStruct.of(c), a)));
                write(kk, a, new byte[] {5});
                assertArrayEquals(new byte[] {5, pattern(2, 10)[1]}, read(kk, a, 2));
                childWrote.complete();
                childDone.set(true);
            });
            assertEquals(2, cached.mapcount(), "mapped by both mms");
            checked.complete();
            childWrote.waitForCompletion();
            assertArrayEquals(pattern(16, 10), read(kk, a, 16), "neither the child's write");
            assertArrayEquals(pattern(16, 10), fileBytes(kk, file[0], 0, 16), "nor the file sees it");
            ops.clear();
            write(kk, a, new byte[] {6});
            assertEquals(List.of(start("MMU_NOTIFY_CLEAR", a, a + PAGE, true), end("MMU_NOTIFY_CLEAR", a, a + PAGE)),
                    ops.events(), "a cache page is copied even when this mm is its only mapper");
            assertEquals(0, cached.mapcount());
        });
        assertTrue(childDone.get());
        PageCache.of(k).truncate(file[0], 0);
        assertNothingAllocated(k);
    }
}
