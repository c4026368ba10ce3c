package hmm4j.kernel.mm.lifetime;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.sched.Kthread;
import hmm4j.kernel.sched.Process;
import hmm4j.kernel.workqueue.WorkStruct;
import hmm4j.kernel.workqueue.WorkqueueStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The lazy-TLB reference {@code kthread_unuse_mm} leaves (kernel/kthread.c: {@code tsk->mm}
 * is cleared, {@code active_mm} stays, {@code mmgrab_lazy_tlb} before the use's
 * {@code mmdrop}): the mm structure stays pinned after the unuse until the kthread adopts
 * another mm, is switched out (a kworker going idle) or exits; a correct user's run is clean
 * (no leak) either way.
 */
class KthreadLazyTlbTest {

    @Test
    void afterUnuse_theMmCountKeepsTheLazyReference_untilTheKthreadExits() {
        Kernel k = checkedKernel(11);
        List<String> seen = new CopyOnWriteArrayList<>();
        AtomicReference<MmStruct> mmRef = new AtomicReference<>();
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            mmRef.set(mm);
            Completion used = new Completion(k, "used");
            Completion exited = new Completion(k, "process exited");
            Task worker = k.spawnKthread("worker", w -> {
                if (mm.mmgetNotZero()) {
                    int before = mm.mmCountPeek();
                    Kthread.kthreadUseMm(mm);
                    Kthread.kthreadUnuseMm(mm);
                    seen.add("after unuse: mm_count " + (mm.mmCountPeek() - before) + " more, lazy "
                            + (Kthread.lazyActiveMm(w) == mm));
                    mm.mmput();
                }
                used.complete();
                exited.waitForCompletion();
                // Every other reference is gone: only the lazy one keeps the structure.
                seen.add("process gone: " + mm.mmState() + ", mm_count " + mm.mmCountPeek());
            });
            used.waitForCompletion();
            k.spawnKthread("reaper", r -> {
                worker.join();
                seen.add("worker exited: " + mm.mmState());
            });
            // The process exits now (its body returns); the worker waits for that.
            k.spawnKthread("exit-signal", s -> {
                while (mm.mmUsersPeek() != 0 || mm.mmState() == MmState.EXITING) {
                    k.runtime().sleep(1_000);
                }
                exited.complete();
            });
        });
        assertClean(k.run());
        assertEquals(List.of("after unuse: mm_count 1 more, lazy true", "process gone: DEAD, mm_count 1",
                "worker exited: FREED"), seen);
        assertEquals(MmState.FREED, mmRef.get().mmState());
    }

    @Test
    void kthreadUseMmOfAnotherMm_dropsTheLazyReferenceOfTheFirst() {
        Kernel k = checkedKernel(12);
        List<String> seen = new CopyOnWriteArrayList<>();
        Process.spawn(k, "a", pa -> {
            MmStruct a = MmStruct.of(pa);
            Completion doneA = new Completion(k, "done a");
            Process.spawn(k, "b", pb -> {
                Completion doneB = new Completion(k, "done b");
                MmStruct b = MmStruct.of(pb);
                k.spawnKthread("worker", w -> {
                    a.mmget();
                    b.mmget();
                    int aBefore = a.mmCountPeek();
                    Kthread.kthreadUseMm(a);
                    Kthread.kthreadUnuseMm(a);
                    seen.add("a: +" + (a.mmCountPeek() - aBefore));
                    Kthread.kthreadUseMm(b);
                    seen.add("a after use of b: +" + (a.mmCountPeek() - aBefore));
                    Kthread.kthreadUnuseMm(b);
                    assertSame(b, Kthread.lazyActiveMm(w));
                    Kthread.kthreadUseMm(b);
                    assertNull(Kthread.lazyActiveMm(w), "the use's reference replaces the lazy one of the same mm");
                    Kthread.kthreadUnuseMm(b);
                    a.mmput();
                    b.mmput();
                    doneA.complete();
                    doneB.complete();
                });
                doneB.waitForCompletion();
            });
            doneA.waitForCompletion();
        });
        assertClean(k.run());
        assertEquals(List.of("a: +1", "a after use of b: +0"), seen);
    }

    @Test
    void aKworkerGoingIdle_dropsItsLazyReference() {
        Kernel k = checkedKernel(13);
        List<String> seen = new CopyOnWriteArrayList<>();
        AtomicReference<MmStruct> mmRef = new AtomicReference<>();
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            mmRef.set(mm);
            // Never destroyed: its kworker never exits, it only goes idle.
            WorkqueueStruct wq = WorkqueueStruct.allocWorkqueue(k, "copy", 0, 1);
            Completion ran = new Completion(k, "work ran");
            int before = mm.mmCountPeek();
            WorkStruct work = new WorkStruct(k, "copy_work", wk -> {
                mm.mmget();
                Kthread.kthreadUseMm(mm);
                Kthread.kthreadUnuseMm(mm);
                mm.mmput();
                seen.add("in the work after unuse: +" + (mm.mmCountPeek() - before));
                ran.complete();
            });
            wq.queueWork(work);
            ran.waitForCompletion();
        });
        // A lazy reference kept by the idle kworker would be an mm leak at quiescence.
        assertClean(k.run());
        assertEquals(List.of("in the work after unuse: +1"), seen);
        assertEquals(MmState.FREED, mmRef.get().mmState());
    }
}
