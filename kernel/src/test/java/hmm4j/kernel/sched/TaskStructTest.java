package hmm4j.kernel.sched;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.sync.Completion;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * get_task_struct / put_task_struct: a driver's worker that remembers its opener and uses it
 * after putting its reference, once the opener has exited, is a use-after-free of the
 * task_struct with its sites; the worker that keeps its reference until it is done is clean
 * (its get_task_mm finds no mm); a stray put is an underflow and a reference never put a leak.
 */
class TaskStructTest {

    /** The process registers with a "device", whose worker acts for it after it exited. */
    private static RunResult opener(long seed, boolean putsBeforeUse, AtomicReference<MmStruct> found) {
        Kernel k = checkedKernel(seed);
        Completion registered = new Completion(k, "registered");
        AtomicReference<Task> openerRef = new AtomicReference<>();
        Task proc = Process.spawn(k, "proc", self -> {
            TaskStruct.getTaskStruct(self);
            openerRef.set(self);
            registered.complete();
        });
        k.spawnKthread("worker", t -> {
            registered.waitForCompletion();
            Task opener = openerRef.get();
            if (putsBeforeUse) {
                TaskStruct.putTaskStruct(opener);
            }
            proc.join();
            MmStruct mm = MmStruct.getTaskMm(opener);
            found.set(mm);
            if (mm != null) {
                mm.mmput();
            }
            if (!putsBeforeUse) {
                TaskStruct.putTaskStruct(opener);
            }
        });
        return k.run();
    }

    @Test
    void aWorkerThatPutsItsReferenceAndThenUsesTheExitedTask_isAUseAfterFreeOfTheTaskStruct() {
        RunResult r = opener(1, true, new AtomicReference<>());
        Failure.UseAfterFree uaf = assertSingleFailure(r, Failure.UseAfterFree.class);
        assertEquals("get_task_mm", uaf.access());
        assertTrue(uaf.object().startsWith("task_struct of proc"), uaf.object());
        assertEquals("proc", uaf.allocated().task(), "the first get_task_struct");
        assertEquals("worker", uaf.freed().task(), "the last put_task_struct");
        assertEquals("worker", uaf.site().task());
    }

    @Test
    void aWorkerThatHoldsItsReferenceUntilDone_isClean_andFindsNoMm() {
        for (long seed = 1; seed <= 50; seed++) {
            AtomicReference<MmStruct> found = new AtomicReference<>();
            assertClean(opener(seed, false, found));
            assertNull(found.get(), "the exited task has no mm");
        }
    }

    @Test
    void aPutWithoutAGet_isAnUnderflow() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            TaskStruct.getTaskStruct(t);
            TaskStruct.putTaskStruct(t);
            TaskStruct.putTaskStruct(t);
        });
        Failure.RefcountError e = assertSingleFailure(k.run(), Failure.RefcountError.class);
        assertEquals(RefcountProblem.UNDERFLOW, e.problem());
        assertTrue(e.detail().contains("the last reference was put by driver"), e.detail());
    }

    @Test
    void aReferenceNeverPut_isALeakNamingItsGet() {
        Kernel k = checkedKernel(1);
        Task victim = k.spawnKthread("victim", t -> { });
        k.spawnKthread("driver", t -> TaskStruct.getTaskStruct(victim));
        Failure.RefcountError e = assertSingleFailure(k.run(), Failure.RefcountError.class);
        assertEquals(RefcountProblem.LEAK, e.problem());
        assertEquals("driver", e.site().task());
        assertEquals(1, TaskStruct.references(victim));
    }
}
