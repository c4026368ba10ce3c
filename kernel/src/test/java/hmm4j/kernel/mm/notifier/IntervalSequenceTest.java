package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.SEEDS;
import static hmm4j.kernel.mm.notifier.ItreeHarness.inFlight;
import static hmm4j.kernel.mm.notifier.ItreeHarness.releaser;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.subs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The worked interleavings of kernel-spec §3.5 (G = global seq, S = the subscription's seq),
 * each forced with completions and run on several seeds of the controlled runtime: whatever
 * the scheduler does around the forced order, the outcome is the one the spec requires. A
 * {@code read_begin} that must not wait is called while the invalidation it races with is
 * held open by a gate only the caller releases, so waiting there would be a reported
 * deadlock.
 */
class IntervalSequenceTest {

    @Test
    void case1_idleInsert_subscriptionSeqIsGlobalMinusOne_readBeginDoesNotWait() {
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                assertEquals(0, a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, new SeqRecorder()));
                assertEquals(2, subs(mm).invalidateSeq());
                assertEquals(1, a.seqPeek());
                long seq = a.mmuIntervalReadBegin();
                assertEquals(1, seq);
                assertFalse(a.mmuIntervalReadRetry(seq));
                assertFalse(a.mmuIntervalCheckRetry(seq));
                a.mmuIntervalNotifierRemove();
            });
        }
    }

    @Test
    void case2_collisionAfterBegin_retryIsTrue_andTheEndMakesTheSeqEven() {
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                SeqRecorder rec = new SeqRecorder();
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, rec);
                long seq = a.mmuIntervalReadBegin();
                assertEquals(0, Mmap.munmap(mm, base + PAGE, PAGE));
                assertEquals(List.of("A:MMU_NOTIFY_UNMAP:3"), rec.log());
                assertEquals(3, a.seqPeek());
                assertTrue(a.mmuIntervalCheckRetry(seq));
                assertTrue(a.mmuIntervalReadRetry(seq));
                assertEquals(4, subs(mm).invalidateSeq());
                assertEquals(0, subs(mm).activeInvalidateRanges());
                a.mmuIntervalNotifierRemove();
            });
        }
    }

    @Test
    void case3_beginDuringInvalidationBeforeTheCallbackReachedTheSub_returnsOldSeqWithoutWaiting() {
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                Completion reached = new Completion(k, "A reached");
                Completion gate = new Completion(k, "gate");
                SeqRecorder rec = new SeqRecorder().holdIn("A", reached, gate);
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                MmuIntervalNotifier b = new MmuIntervalNotifier("B");
                a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, rec);
                b.mmuIntervalNotifierInsert(mm, base + 4 * PAGE, 4 * PAGE, rec);
                Task x = inFlight(k, mm, "X", base, base + 8 * PAGE, null, null, null);
                reached.waitForCompletion();
                assertEquals(3, subs(mm).invalidateSeq());
                long seqB = b.mmuIntervalReadBegin();
                assertEquals(1, seqB, "B was not reached yet: read_begin returns its old seq at once");
                gate.complete();
                x.join();
                assertEquals(List.of("A:MMU_NOTIFY_CLEAR:3", "B:MMU_NOTIFY_CLEAR:3"), rec.log());
                assertTrue(b.mmuIntervalReadRetry(seqB));
                assertEquals(4, subs(mm).invalidateSeq());
                a.mmuIntervalNotifierRemove();
                b.mmuIntervalNotifierRemove();
            });
        }
    }

    @Test
    void case4_beginAfterTheCallback_sleepsUntilTheEnd_thenANewInvalidationIsDetected() {
        AtomicInteger sawReaderAsleep = new AtomicInteger();
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                Completion reached = new Completion(k, "B reached");
                Completion gate = new Completion(k, "gate");
                Completion beginning = new Completion(k, "reader about to begin");
                SeqRecorder rec = new SeqRecorder().holdIn("B", reached, gate);
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                MmuIntervalNotifier b = new MmuIntervalNotifier("B");
                a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, rec);
                b.mmuIntervalNotifierInsert(mm, base + 4 * PAGE, 4 * PAGE, rec);
                Task reader = k.current();
                Task x = inFlight(k, mm, "X", base, base + 8 * PAGE, null, null, null);
                reached.waitForCompletion();
                thread(k, "releaser", () -> {
                    beginning.waitForCompletion();
                    if (reader.state() == Task.State.BLOCKED) {
                        sawReaderAsleep.incrementAndGet();
                    }
                    gate.complete();
                });
                assertEquals(3, a.seqPeek());
                beginning.complete();
                long seqA = a.mmuIntervalReadBegin();
                assertEquals(3, seqA);
                assertEquals(0, subs(mm).invalidateSeq() & 1, "read_begin returned only after the period ended");
                assertFalse(a.mmuIntervalReadRetry(seqA));
                x.join();
                assertEquals(0, Mmap.munmap(mm, base, PAGE));
                assertEquals(5, a.seqPeek());
                assertTrue(a.mmuIntervalReadRetry(seqA), "the next invalidation Y is detected");
                a.mmuIntervalNotifierRemove();
                b.mmuIntervalNotifierRemove();
            });
        }
        assertTrue(sawReaderAsleep.get() > 0, "on some seed the reader was asleep in read_begin");
    }

    @Test
    void case5_concurrentInvalidations_shareTheSeq_andOnlyTheLastEndMakesItEven() {
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                SeqRecorder rec = new SeqRecorder();
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, rec);
                Completion startedX = new Completion(k, "X started");
                Completion startedY = new Completion(k, "Y started");
                Completion gateX = new Completion(k, "gate X");
                Completion gateY = new Completion(k, "gate Y");
                Completion endedX = new Completion(k, "X ended");
                Task x = inFlight(k, mm, "X", base, base + PAGE, startedX, gateX, endedX);
                Task y = inFlight(k, mm, "Y", base + PAGE, base + 2 * PAGE, startedY, gateY, null);
                startedX.waitForCompletion();
                startedY.waitForCompletion();
                assertEquals(List.of("A:MMU_NOTIFY_CLEAR:3", "A:MMU_NOTIFY_CLEAR:3"), rec.log());
                assertEquals(2, subs(mm).activeInvalidateRanges());
                gateX.complete();
                endedX.waitForCompletion();
                assertEquals(3, subs(mm).invalidateSeq(), "Y is still in flight");
                gateY.complete();
                x.join();
                y.join();
                assertEquals(4, subs(mm).invalidateSeq());
                assertEquals(0, subs(mm).activeInvalidateRanges());
                a.mmuIntervalNotifierRemove();
            });
        }
    }

    @Test
    void case6_insertWhilePartiallyExcluded_flipsTheSeqOdd_andReadBeginWaitsForTheUnrelatedInvalidation() {
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                SeqRecorder rec = new SeqRecorder();
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, rec);
                Completion started = new Completion(k, "X started");
                Completion gate = new Completion(k, "gate");
                Completion beginning = new Completion(k, "about to begin");
                Task x = inFlight(k, mm, "X", base + 8 * PAGE, base + 12 * PAGE, started, gate, null);
                started.waitForCompletion();
                assertEquals(2, subs(mm).invalidateSeq(), "X hit nothing: partially excluded");
                assertEquals(1, subs(mm).activeInvalidateRanges());
                MmuIntervalNotifier b = new MmuIntervalNotifier("B");
                b.mmuIntervalNotifierInsert(mm, base + 8 * PAGE, 4 * PAGE, rec);
                assertEquals(3, subs(mm).invalidateSeq());
                assertEquals(3, b.seqPeek());
                assertTrue(b.isInTree(), "inserted at once, not deferred");
                releaser(k, "releaser", beginning, gate);
                beginning.complete();
                long seqB = b.mmuIntervalReadBegin();
                assertEquals(3, seqB);
                assertEquals(4, subs(mm).invalidateSeq(), "read_begin waited for X to end");
                x.join();
                assertTrue(rec.log().isEmpty(), "X never calls B: " + rec.log());
                assertFalse(b.mmuIntervalReadRetry(seqB));
                a.mmuIntervalNotifierRemove();
                b.mmuIntervalNotifierRemove();
            });
        }
    }

    @Test
    void case7_insertWhileFullyExcluded_isDeferredUntilTheFinalEnd() {
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                SeqRecorder rec = new SeqRecorder();
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, rec);
                Completion started = new Completion(k, "X started");
                Completion gate = new Completion(k, "gate");
                Completion beginning = new Completion(k, "about to begin");
                Task x = inFlight(k, mm, "X", base, base + PAGE, started, gate, null);
                started.waitForCompletion();
                assertEquals(3, subs(mm).invalidateSeq());
                MmuIntervalNotifier b = new MmuIntervalNotifier("B");
                b.mmuIntervalNotifierInsert(mm, base + 8 * PAGE, 4 * PAGE, rec);
                assertFalse(b.isInTree(), "the tree is frozen: B is on the deferred list");
                assertTrue(b.isDeferred());
                assertEquals(3, b.seqPeek());
                releaser(k, "releaser", beginning, gate);
                beginning.complete();
                long seqB = b.mmuIntervalReadBegin();
                assertEquals(3, seqB);
                assertEquals(4, subs(mm).invalidateSeq());
                assertTrue(b.isInTree(), "the final end inserted B");
                assertFalse(b.isDeferred());
                x.join();
                a.mmuIntervalNotifierRemove();
                b.mmuIntervalNotifierRemove();
            });
        }
    }

    @Test
    void case8_removeWhileFullyExcluded_keepsTheNodeCallable_andWaitsForTheSeqToChange() {
        AtomicInteger calledWhilePendingRemoval = new AtomicInteger();
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                SeqRecorder rec = new SeqRecorder() {
                    @Override
                    public boolean invalidate(MmuIntervalNotifier sub, MmuNotifierRange range, long curSeq) {
                        if (sub.isDeferred()) {
                            calledWhilePendingRemoval.incrementAndGet();
                        }
                        return super.invalidate(sub, range, curSeq);
                    }
                };
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, rec);
                Completion startedX = new Completion(k, "X started");
                Completion gateX = new Completion(k, "gate X");
                Completion removing = new Completion(k, "removing");
                Completion yDone = new Completion(k, "Y done");
                inFlight(k, mm, "X", base, base + PAGE, startedX, gateX, null);
                startedX.waitForCompletion();
                thread(k, "Y", () -> {
                    removing.waitForCompletion();
                    MmuNotifierRange y = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm,
                            base + 2 * PAGE, base + 3 * PAGE);
                    mm.mmapReadLock();
                    y.invalidateRangeStart();
                    y.invalidateRangeEnd();
                    mm.mmapReadUnlock();
                    yDone.complete();
                });
                releaser(k, "releaser", yDone, gateX);
                int countBefore = mm.mmCountPeek();
                removing.complete();
                a.mmuIntervalNotifierRemove();
                assertEquals(0, subs(mm).invalidateSeq() & 1);
                assertEquals(List.of("A:MMU_NOTIFY_CLEAR:3", "A:MMU_NOTIFY_CLEAR:3"), rec.log(),
                        "Y, started after remove was called, still reached A");
                assertFalse(a.isInTree());
                assertFalse(a.isDeferred());
                assertEquals(countBefore - 1, mm.mmCountPeek(), "remove dropped the insert's mm_count");
            });
        }
        assertTrue(calledWhilePendingRemoval.get() > 0, "on some seed Y called A while its removal was pending");
    }

    /** A thread of the current process running {@code body}. */
    private static void thread(hmm4j.sim.Kernel k, String name, Runnable body) {
        hmm4j.kernel.sched.Clone.cloneVm(k, name, self -> body.run());
    }
}
