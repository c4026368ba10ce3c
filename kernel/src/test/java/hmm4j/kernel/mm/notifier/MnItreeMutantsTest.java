package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.inFlight;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The interval tree's invalidation core ({@link MnItree}) where mutation testing found it
 * unchecked: the walk's end with adjacent subscriptions, the exit release reaching every
 * subscription, an {@code invalidate} returning false, read_begin waiting, and remove's
 * double-remove and cancelled-insert paths.
 */
class MnItreeMutantsTest {

    private static final MmuIntervalNotifierOps SET_SEQ = (s, r, seq) -> {
        s.mmuIntervalSetSeq(seq);
        return true;
    };

    @Test
    void anInvalidation_callsOnlyTheSubscriptionsItOverlaps_notTheAdjacentOneAfterIt() {
        runClean(1, (k, mm, base) -> {
            List<String> hits = new CopyOnWriteArrayList<>();
            MmuIntervalNotifierOps record = (s, r, seq) -> {
                hits.add(s.name());
                s.mmuIntervalSetSeq(seq);
                return true;
            };
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            MmuIntervalNotifier b = new MmuIntervalNotifier("B");
            MmuIntervalNotifier c = new MmuIntervalNotifier("C");
            assertEquals(0, a.mmuIntervalNotifierInsert(mm, base, PAGE, record));
            assertEquals(0, b.mmuIntervalNotifierInsert(mm, base + PAGE, PAGE, record));
            assertEquals(0, c.mmuIntervalNotifierInsert(mm, base + 2 * PAGE, PAGE, record));
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + 2 * PAGE);
            r.invalidateRangeStart();
            r.invalidateRangeEnd();
            assertEquals(List.of("A", "B"), hits);
            a.mmuIntervalNotifierRemove();
            b.mmuIntervalNotifierRemove();
            c.mmuIntervalNotifierRemove();
        });
    }

    @Test
    void exit_releasesEveryIntervalSubscription() {
        List<String> released = new CopyOnWriteArrayList<>();
        List<MmuIntervalNotifier> subs = new CopyOnWriteArrayList<>();
        Kernel k = hmm4j.kernel.mm.lifetime.Runs.checkedKernel(1);
        MmuIntervalNotifierOps record = (s, r, seq) -> {
            if (r.event() == MmuNotifierEvent.MMU_NOTIFY_RELEASE) {
                released.add(s.name());
            }
            s.mmuIntervalSetSeq(seq);
            return true;
        };
        hmm4j.sim.Task proc = Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long[] starts = {PAGE, 1L << 30, 1L << 40};
            String[] names = {"low", "mid", "high"};
            for (int i = 0; i < 3; i++) {
                MmuIntervalNotifier s = new MmuIntervalNotifier(names[i]);
                assertEquals(0, s.mmuIntervalNotifierInsert(mm, starts[i], PAGE, record));
                subs.add(s);
            }
        });
        k.spawnKthread("remover", self -> {
            proc.join();
            subs.forEach(MmuIntervalNotifier::mmuIntervalNotifierRemove);
        });
        RunResult r = k.run();
        assertClean(r);
        assertEquals(List.of("high", "low", "mid"), released.stream().sorted().toList());
    }

    @Test
    void invalidateReturningFalse_forABlockableRange_isReported() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
            sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> false);
            Mmap.munmap(mm, base, PAGE);
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.FALSE_ONLY_NONBLOCKABLE, v.rule());
        assertTrue(v.detail().startsWith("sub->invalidate returned false for MMU_NOTIFY_UNMAP"),
                "reported at the unmap, not later at exit: " + v.detail());
    }

    @Test
    void invalidateReturningFalse_forTheReleaseAtExit_isReported() {
        Kernel k = hmm4j.kernel.mm.lifetime.Runs.checkedKernel(1);
        Process.spawn(k, "proc", self -> new MmuIntervalNotifier("sub").mmuIntervalNotifierInsert(MmStruct.of(self), PAGE,
                PAGE, (s, r, seq) -> r.event() != MmuNotifierEvent.MMU_NOTIFY_RELEASE));
        RunResult run = k.run();
        Failure.InvariantViolation v = assertInstanceOfFirst(run);
        assertEquals(KernelRules.FALSE_ONLY_NONBLOCKABLE, v.rule());
        assertTrue(v.detail().contains("MMU_NOTIFY_RELEASE"), v.detail());
    }

    private static Failure.InvariantViolation assertInstanceOfFirst(RunResult run) {
        Failure f = run.firstFailure().orElseThrow();
        assertTrue(f instanceof Failure.InvariantViolation, run.failures().toString());
        return (Failure.InvariantViolation) f;
    }

    @Test
    void aNonblockInvalidationRefused_isMarked_andReturnsEagain() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
            sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> {
                if (!r.blockable()) {
                    return false;
                }
                s.mmuIntervalSetSeq(seq);
                return true;
            });
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            assertEquals(-Errno.EAGAIN, r.invalidateRangeStartNonblock());
            assertEquals(0, mm.notifierSubscriptions().activeInvalidateRanges(), "the refused start was undone");
            sub.mmuIntervalNotifierRemove();
        });
        assertClean(run);
        assertTrue(run.hit(MmuIntervalNotifier.NONBLOCK_EAGAIN), run.marks()::toString);
    }

    @Test
    void readBegin_duringACollidingInvalidation_waitsAndIsMarked() {
        int waited = 0;
        for (long seed : ItreeHarness.SEEDS) {
            RunResult run = runProcess(seed, (k, mm, base) -> {
                MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
                sub.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ);
                Completion started = new Completion(k, "started");
                Completion gate = new Completion(k, "gate");
                var inv = inFlight(k, mm, "inv", base, base + PAGE, started, gate, null);
                started.waitForCompletion();
                Completion go = new Completion(k, "go");
                go.complete();
                ItreeHarness.releaser(k, "releaser", go, gate);
                long seq = sub.mmuIntervalReadBegin();
                assertEquals(0, mm.notifierSubscriptions().invalidateSeq() & 1, "read_begin returned after the end");
                assertFalse(sub.mmuIntervalReadRetry(seq));
                inv.join();
                sub.mmuIntervalNotifierRemove();
            });
            assertClean(run);
            waited += run.hit(MmuIntervalNotifier.READ_BEGIN_WAITS) ? 1 : 0;
        }
        assertTrue(waited > 0, "on some seed read_begin runs before the releaser lets the invalidation end");
    }

    @Test
    void aSecondRemove_isReported_withOrWithoutAnInvalidationInFlight() {
        for (boolean inFlightToo : new boolean[] {false, true}) {
            RunResult run = runProcess(1, (k, mm, base) -> {
                MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
                sub.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ);
                sub.mmuIntervalNotifierRemove();
                if (inFlightToo) {
                    Completion started = new Completion(k, "started");
                    MmuIntervalNotifier other = new MmuIntervalNotifier("other");
                    other.mmuIntervalNotifierInsert(mm, base + PAGE, PAGE, SET_SEQ);
                    inFlight(k, mm, "inv", base + PAGE, base + 2 * PAGE, started, new Completion(k, "never"), null);
                    started.waitForCompletion();
                }
                sub.mmuIntervalNotifierRemove();
            });
            Failure.InvariantViolation v = assertInstanceOfFirst(run);
            assertEquals(KernelRules.REMOVE_PAIRS_INSERT, v.rule(), "in flight: " + inFlightToo);
        }
    }

    @Test
    void aRemoveThatCancelsADeferredInsert_leavesTheSubscriptionFreeToBeInsertedAgain() {
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
            assertFalse(y.isDeferred());
            gate.complete();
            inv.join();
            assertEquals(0, y.mmuIntervalNotifierInsert(mm, base + 2 * PAGE, PAGE, SET_SEQ));
            y.mmuIntervalNotifierRemove();
            x.mmuIntervalNotifierRemove();
        });
        assertClean(r);
    }
}
