package hmm4j.kernel.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The descriptor table: {@code fork} duplicates it with a reference per descriptor, a child's
 * {@code close} or exit drops only the child's, threads share it, and the last {@code fput},
 * by whichever task, runs the release once.
 */
class FilesStructTest {

    /** A file that counts its references and records who released it. */
    private static final class CountedFile implements FileRef {
        final AtomicInteger count = new AtomicInteger(1);
        final List<String> releasedBy = new CopyOnWriteArrayList<>();
        private final Kernel kernel;

        CountedFile(Kernel kernel) {
            this.kernel = kernel;
        }

        @Override
        public void getFile() {
            count.incrementAndGet();
        }

        @Override
        public void fput() {
            if (count.decrementAndGet() == 0) {
                releasedBy.add(kernel.current().name());
            }
        }
    }

    private static Kernel checked(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        return k;
    }

    private static void assertClean(RunResult r) {
        assertTrue(r.failures().isEmpty(), r.failures().toString());
    }

    @Test
    void forkDuplicatesEveryDescriptor_theChildsCloseDropsOnlyItsReference() {
        Kernel k = checked(1);
        CountedFile f = new CountedFile(k);
        Process.spawn(k, "parent", self -> {
            FilesStruct.fdInstall(self, f);
            Task child = Process.fork(self, "child", c -> {
                assertTrue(FilesStruct.holds(c, f), "the child inherited the descriptor");
                assertEquals(2, f.count.get(), "the child's descriptor holds its own reference");
                assertEquals(0, FilesStruct.closeFd(c, f));
                assertEquals(1, f.count.get());
                assertTrue(f.releasedBy.isEmpty(), "the parent's descriptor keeps the file open");
                assertEquals(-Errno.EBADF, FilesStruct.closeFd(c, f), "the child has no descriptor left");
            });
            Process.waitpid(child);
            assertTrue(FilesStruct.holds(self, f), "the child's close left the parent's descriptor");
            assertEquals(0, FilesStruct.closeFd(self, f));
            assertEquals(List.of("parent"), f.releasedBy, "the last close released the file, once");
        });
        assertClean(k.run());
    }

    @Test
    void theLastReferenceMayBeTheChilds_itsExitReleasesTheFile() {
        for (long seed = 1; seed <= 30; seed++) {
            Kernel k = checked(seed);
            CountedFile f = new CountedFile(k);
            Process.spawn(k, "parent", self -> {
                FilesStruct.fdInstall(self, f);
                Process.fork(self, "child", c -> assertTrue(FilesStruct.holds(c, f)));
                assertEquals(0, FilesStruct.closeFd(self, f));
            });
            assertClean(k.run());
            assertEquals(0, f.count.get(), "seed " + seed);
            assertEquals(1, f.releasedBy.size(), "released once, seed " + seed);
            assertTrue(f.releasedBy.get(0).equals("parent") || f.releasedBy.get(0).equals("child"));
        }
    }

    @Test
    void aProcessThatExitsWithOpenFiles_closesThemInExitFiles() {
        Kernel k = checked(2);
        CountedFile a = new CountedFile(k);
        CountedFile b = new CountedFile(k);
        Process.spawn(k, "proc", self -> {
            FilesStruct.fdInstall(self, a);
            FilesStruct.fdInstall(self, b);
            assertEquals(2, FilesStruct.descriptors(self));
        });
        assertClean(k.run());
        assertEquals(List.of("proc"), a.releasedBy);
        assertEquals(List.of("proc"), b.releasedBy);
    }

    @Test
    void threadsShareTheTable_aThreadsCloseClosesForTheProcess_andOnlyTheLastExitCloses() {
        Kernel k = checked(3);
        CountedFile f = new CountedFile(k);
        CountedFile g = new CountedFile(k);
        Process.spawn(k, "proc", self -> {
            FilesStruct.fdInstall(self, f);
            FilesStruct.fdInstall(self, g);
            Task thread = Clone.cloneVm(k, "thread", t -> assertEquals(0, FilesStruct.closeFd(t, f)));
            thread.join();
            assertFalse(FilesStruct.holds(self, f), "the thread closed the process's descriptor");
            assertEquals(List.of("thread"), f.releasedBy);
            assertTrue(g.releasedBy.isEmpty(), "the thread's exit did not close the shared table");
        });
        assertClean(k.run());
        assertEquals(List.of("proc"), g.releasedBy);
    }

    @Test
    void closeOfAFileTheTaskDoesNotHold_isEbadf() {
        Kernel k = checked(4);
        CountedFile f = new CountedFile(k);
        Process.spawn(k, "proc", self -> {
            assertEquals(-Errno.EBADF, FilesStruct.closeFd(self, f));
            assertEquals(1, f.count.get(), "nothing was dropped");
        });
        assertClean(k.run());
    }
}
