package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.SEEDS;
import static hmm4j.kernel.mm.notifier.ItreeHarness.inFlight;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.lifetime.Runs;
import hmm4j.kernel.sched.Clone;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.RunResult;
import hmm4j.sim.sync.Completion;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The coverage marks of the interval notifier's deferred branches and of get_task_mm: each
 * test drives the branch and checks that the run reports the mark, and that a run that does
 * not take the branch does not.
 */
class KernelMarksTest {
    private static final MmuIntervalNotifierOps SET_SEQ = (s, r, seq) -> {
        s.mmuIntervalSetSeq(seq);
        return true;
    };

    /** An invalidation of X's page in flight while Y is inserted and removed again. */
    @Test
    void insertWhileTheTreeIsFrozen_isDeferred_andARemoveBeforeTheEndCancelsIt() {
        RunResult r = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier x = new MmuIntervalNotifier("X");
            x.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ);
            Completion started = new Completion(k, "started");
            Completion gate = new Completion(k, "gate");
            var inv = inFlight(k, mm, "inv", base, base + PAGE, started, gate, null);
            started.waitForCompletion();
            MmuIntervalNotifier y = new MmuIntervalNotifier("Y");
            y.mmuIntervalNotifierInsert(mm, base + 2 * PAGE, PAGE, SET_SEQ);
            assertTrue(y.isDeferred());
            y.mmuIntervalNotifierRemove();
            gate.complete();
            inv.join();
            x.mmuIntervalNotifierRemove();
        });
        assertClean(r);
        assertTrue(r.hit(MmuIntervalNotifier.DEFERRED_INSERT), r.marks()::toString);
        assertTrue(r.hit(MmuIntervalNotifier.REMOVE_CANCELS_INSERT), r.marks()::toString);
        assertFalse(r.hit(MmuIntervalNotifier.INSERT_DURING_INVALIDATION), r.marks()::toString);
    }

    /** An invalidation that hits no subscription in flight while Y is inserted. */
    @Test
    void insertDuringAnInvalidationThatHitNothing_freezesTheTreeItself() {
        RunResult r = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier x = new MmuIntervalNotifier("X");
            x.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ);
            Completion started = new Completion(k, "started");
            Completion gate = new Completion(k, "gate");
            var inv = inFlight(k, mm, "inv", base + 8 * PAGE, base + 9 * PAGE, started, gate, null);
            started.waitForCompletion();
            MmuIntervalNotifier y = new MmuIntervalNotifier("Y");
            y.mmuIntervalNotifierInsert(mm, base + 2 * PAGE, PAGE, SET_SEQ);
            gate.complete();
            inv.join();
            y.mmuIntervalNotifierRemove();
            x.mmuIntervalNotifierRemove();
        });
        assertClean(r);
        assertTrue(r.hit(MmuIntervalNotifier.INSERT_DURING_INVALIDATION), r.marks()::toString);
        assertFalse(r.hit(MmuIntervalNotifier.DEFERRED_INSERT), r.marks()::toString);
    }

    /** A remove of X racing the end of an invalidation of X's page: some schedules defer it. */
    @Test
    void removeWhileTheTreeIsFrozen_isDeferred_onSomeSchedules() {
        Set<Mark> seen = new HashSet<>();
        for (long seed : SEEDS) {
            RunResult r = runProcess(seed, (k, mm, base) -> {
                MmuIntervalNotifier x = new MmuIntervalNotifier("X");
                x.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ);
                Completion started = new Completion(k, "started");
                var inv = inFlight(k, mm, "inv", base, base + PAGE, started, null, null);
                started.waitForCompletion();
                x.mmuIntervalNotifierRemove();
                inv.join();
            });
            assertClean(r);
            seen.addAll(r.marks());
        }
        assertTrue(seen.contains(MmuIntervalNotifier.DEFERRED_REMOVE), seen::toString);
    }

    @Test
    void aClassicStartFailingANonBlockableRange_isMarked_aBlockableOneIsNot() {
        MmuNotifierOps busy = new MmuNotifierOps() {
            @Override
            public int invalidateRangeStart(MmuNotifier sub, MmuNotifierRange range) {
                return range.blockable() ? 0 : -hmm4j.kernel.mm.Errno.EAGAIN;
            }
        };
        RunResult blocking = runProcess(1, (k, mm, base) -> {
            MmuNotifier n = new MmuNotifier("busy", busy);
            n.register(mm);
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            range.invalidateRangeStart();
            range.invalidateRangeEnd();
            n.unregister(mm);
        });
        assertClean(blocking);
        assertFalse(blocking.hit(MmuNotifierSubscriptions.START_NONBLOCK_EAGAIN));
        RunResult nonblock = runProcess(1, (k, mm, base) -> {
            MmuNotifier n = new MmuNotifier("busy", busy);
            n.register(mm);
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            range.invalidateRangeStartNonblock();
            n.unregister(mm);
        });
        assertClean(nonblock);
        assertTrue(nonblock.hit(MmuNotifierSubscriptions.START_NONBLOCK_EAGAIN));
    }

    @Test
    void getTaskMm_ofAKernelThread_isNullAndMarked_ofAUserTaskIsNot() {
        Kernel k = Runs.checkedKernel(1);
        k.spawnKthread("kt", self -> assertNull(MmStruct.getTaskMm(self)));
        RunResult r = k.run();
        assertClean(r);
        assertTrue(r.hit(MmStruct.GET_TASK_MM_NULL));

        RunResult user = runProcess(1, (kk, mm, base) -> {
            MmStruct got = MmStruct.getTaskMm(kk.current());
            got.mmput();
            Clone.cloneVm(kk, "thread", t -> { }).join();
        });
        assertClean(user);
        assertFalse(user.hit(MmStruct.GET_TASK_MM_NULL));
    }
}
