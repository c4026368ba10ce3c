package hmm4j.drivers.usemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
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
 * {@code get_task_mm} against the task's own {@code exit_mm}: a kernel worker looks up the
 * address space of a process that is exiting. Taken under {@code task_lock} the lookup is
 * clean on every schedule; a driver that reads {@code tsk->mm} and then takes
 * {@code mmget} without the lock is found.
 */
class GetTaskMmTest {
    @TempDir
    Path out;

    /**
     * The process maps a page and starts a worker that looks its mm up and reads the page;
     * the process exits meanwhile.
     */
    static void workerLooksUpTheMm(Kernel k, boolean taskLock) {
        Checkers.install(k);
        Process.spawn(k, "process", self -> {
            MmStruct own = MmStruct.of(self);
            long buf = Mmap.mmapAnonymous(own, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
            UserAccess.copyToUser(k, buf, new byte[] {7});
            k.spawnKthread("worker", w -> {
                MmStruct mm = taskLock ? MmStruct.getTaskMm(self) : unlockedGetTaskMm(self);
                if (mm == null) {
                    return;
                }
                Kthread.kthreadUseMm(mm);
                UserAccess.copyFromUser(k, new byte[1], buf);
                Kthread.kthreadUnuseMm(mm);
                mm.mmput();
            });
        });
    }

    /** The wrong driver: {@code tsk->mm} read, then {@code mmget}, without {@code task_lock}. */
    private static MmStruct unlockedGetTaskMm(hmm4j.sim.Task task) {
        MmStruct mm = MmStruct.of(task);
        if (mm != null) {
            mm.mmget();
        }
        return mm;
    }

    @Test
    void getTaskMm_underTaskLock_isCleanOver100000Runs() {
        ExplorationResult r = Explorer.explore(ExploreTarget.of("get-task-mm", (k, ctx) -> workerLooksUpTheMm(k, true)),
                ExploreOptions.defaults().withRuns(100_000).withOutDir(out));
        assertTrue(r.clean(), () -> "expected clean, got " + r.failure().map(f -> f.headline()).orElse("?"));
        assertEquals(100_000, r.runsDone());
    }

    @Test
    void tskMmReadWithoutTaskLock_isFound() {
        ExplorationResult r = Explorer.explore(ExploreTarget.of("get-task-mm-unlocked",
                        (k, ctx) -> workerLooksUpTheMm(k, false)),
                ExploreOptions.defaults().withRuns(2_000).withOutDir(out));
        assertTrue(r.failure().isPresent(), "reading tsk->mm without task_lock must be found");
        FailureKind kind = r.failure().get().failure().orElseThrow().kind();
        assertTrue(kind == FailureKind.REFCOUNT_ERROR || kind == FailureKind.USE_AFTER_FREE, () -> "found as " + kind);
    }
}
