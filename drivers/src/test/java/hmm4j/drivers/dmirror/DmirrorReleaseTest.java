package hmm4j.drivers.dmirror;

import static hmm4j.drivers.dmirror.DmirrorHarness.check;
import static hmm4j.drivers.dmirror.DmirrorHarness.cmd;
import static hmm4j.drivers.dmirror.DmirrorHarness.fill;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV;
import static hmm4j.testkit.RunAssertions.assertClean;
import static hmm4j.testkit.TestKernels.checked;
import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.testkit.UserMemory.pte;
import static hmm4j.testkit.UserProcess.inProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.fs.FilesStruct;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The file's lifetime with descriptor tables, and the current driver's release: a forked
 * child's copy of the descriptor keeps the mirror open, only the last {@code fput} releases it,
 * and the release evicts the device's memory back to system memory (every chunk, every mirror's
 * pages), keeping the chunks.
 */
class DmirrorReleaseTest {

    @Test
    void theLastCloseEvictsEveryLivePageOfTheDevice_andKeepsItsChunks() {
        inProcess(81, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            DmirrorFile other = DmirrorFile.open(dev);
            long a = mapAnon(mm, 3, RW);
            long b = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 3, RW);
            fill(k, a, 3, 5);
            fill(k, b, 2, 6);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 3, 0);
            cmd(other, HMM_DMIRROR_MIGRATE_TO_DEV, b, buf, 2, 0);
            int chunks = dev.chunkCount();
            assertEquals(0, f.close());
            for (long p = 0; p < 3; p++) {
                assertTrue(Pte.isPresent(pte(mm, a + p * PAGE)), "page " + p + " of the closed mirror's range is back");
            }
            for (long p = 0; p < 2; p++) {
                assertTrue(Pte.isPresent(pte(mm, b + p * PAGE)),
                        "page " + p + " another mirror of the device migrated is evicted too");
            }
            assertEquals(chunks, dev.chunkCount(), "the chunks stay");
            assertEquals(5, dev.cfree(), "every device page came back to the free list");
            check(k, a, 3, 5);
            check(k, b, 2, 6);
            assertEquals(0, other.close());
        });
    }

    @Test
    void aForkedChildsCopyOfTheDescriptor_keepsTheMirrorOpen_untilTheLastClose() {
        Kernel k = checked(82);
        AtomicLong addr = new AtomicLong();
        Process.spawn(k, "parent", self -> {
            MmStruct mm = MmStruct.of(self);
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            addr.set(a);
            fill(k, a, 2, 7);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
            Task child = Process.fork(self, "child", c -> {
                assertTrue(FilesStruct.holds(c, f), "fork duplicated the descriptor");
                assertEquals(0, f.close());
                assertFalse(f.isClosed(), "the parent's descriptor still holds the file");
                assertThrows(IllegalStateException.class, f::close, "the child has no descriptor left");
            });
            assertTrue(Process.waitpid(child).wifexited());
            assertFalse(f.isClosed());
            assertTrue(Pte.isDevicePrivate(pte(mm, a)), "no release yet: the data is still on the device");
            assertEquals(0, f.close());
            assertTrue(f.isClosed());
            assertTrue(Pte.isPresent(pte(mm, a)) && Pte.isPresent(pte(mm, a + PAGE)), "the last close evicted");
            check(k, a, 2, 7);
        });
        assertClean(k.run());
    }

    @Test
    void aProcessThatExitsWithTheFileOpen_releasesItInExitFiles() {
        Kernel k = checked(83);
        DmirrorDevice dev = DmirrorDevice.create(k, 0);
        AtomicReference<DmirrorFile> file = new AtomicReference<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 8);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
            file.set(f);
        });
        assertClean(k.run());
        assertTrue(file.get().isClosed(), "exit_files dropped the last reference");
        assertTrue(file.get().dmirror().isFreed(), "the mirror was released");
        assertEquals(dev.calloc(), dev.cfree(), "every device page handed out came back");
    }
}
