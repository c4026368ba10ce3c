package hmm4j.scenarios.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.ExploreTarget;
import hmm4j.explore.Explorer;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Kthread;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.FailureKind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver of the README's "Test a driver with @Explore" section, run through the one-call
 * API: the worker that pins only the structure is found, the one that takes
 * {@code mmget_not_zero} is clean. Keep this and the README in step.
 */
class ReadmeDriverExampleTest {
    @TempDir
    Path out;

    /** The README's driver: a process hands its buffer to a kernel worker that copies it. */
    static void workerCopiesTheBuffer(Kernel k, boolean pinAddressSpace) {
        Checkers.install(k);
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long buf = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
            UserAccess.copyToUser(k, buf, new byte[] {42});
            RefHandle ref = new RefHandle("worker");
            mm.mmgrabAs(ref);
            k.spawnKthread("worker", w -> {
                if (!pinAddressSpace || mm.mmgetNotZero()) {
                    Kthread.kthreadUseMm(mm);
                    UserAccess.copyFromUser(k, new byte[1], buf);
                    Kthread.kthreadUnuseMm(mm);
                    if (pinAddressSpace) {
                        mm.mmput();
                    }
                }
                mm.mmdropAs(ref);
            });
        });
    }

    @Test
    void mmgrabOnly_isFoundAsAnAddressSpaceUsedWithoutMmget() {
        ExplorationResult r = Explorer.explore(ExploreTarget.of("readme-worker", (k, ctx) -> workerCopiesTheBuffer(k, false)),
                ExploreOptions.defaults().withRuns(200).withOutDir(out));
        assertTrue(r.failure().isPresent(), "the mmgrab-only worker must be found");
        assertEquals(FailureKind.UNPINNED_ADDRESS_SPACE, r.failure().get().failure().orElseThrow().kind());
    }

    @Test
    void mmgetNotZero_isClean() {
        ExplorationResult r = Explorer.explore(ExploreTarget.of("readme-worker-fixed", (k, ctx) -> workerCopiesTheBuffer(k, true)),
                ExploreOptions.defaults().withRuns(200).withOutDir(out));
        assertTrue(r.clean(), () -> "expected clean, got " + r.failure().map(f -> f.headline()).orElse("?"));
    }
}
