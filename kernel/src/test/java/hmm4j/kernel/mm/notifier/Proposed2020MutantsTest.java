package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.inFlight;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The never-merged 2020 proposal ({@link MmuIntervalNotifierProposed2020}) on the kernel's own
 * tests, where mutation testing left {@link MnItree}'s halves of it unchecked: the lookup by
 * ops ({@code findLocked}), the asynchronous put ({@code removeOrDefer}) and the release list
 * drained by the last invalidation end. The catalogue's S4 scenario shows why the proposal
 * was rejected; these tests pin down what the model of it does.
 */
class Proposed2020MutantsTest {

    private static final MmuIntervalNotifierOps SET_SEQ = (s, r, seq) -> {
        s.mmuIntervalSetSeq(seq);
        return true;
    };

    /** Distinct ops instances (a capturing lambda is a new object each time). */
    private static MmuIntervalNotifierOps setSeq(String tag) {
        return (s, r, seq) -> {
            s.mmuIntervalSetSeq(seq);
            return !tag.isEmpty();
        };
    }

    @Test
    void find_returnsTheFirstOverlappingSubscriptionOfTheOps_skippingOtherOps() {
        runClean(1, (k, mm, base) -> {
            MmuIntervalNotifierOps mine = setSeq("mine");
            MmuIntervalNotifierOps other = setSeq("other");
            assertNull(MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, mine, base, base),
                    "no subscription yet");
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            MmuIntervalNotifier b = new MmuIntervalNotifier("B");
            MmuIntervalNotifier c = new MmuIntervalNotifier("C");
            a.mmuIntervalNotifierInsert(mm, base, PAGE, mine);
            b.mmuIntervalNotifierInsert(mm, base + PAGE, PAGE, other);
            c.mmuIntervalNotifierInsert(mm, base + 2 * PAGE, PAGE, mine);
            assertSame(a, MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, mine, base, base + 3 * PAGE - 1));
            assertSame(c, MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, mine, base + PAGE,
                    base + 3 * PAGE - 1), "B overlaps first but has other ops");
            assertSame(b, MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, other, base, base + 3 * PAGE - 1));
            assertNull(MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, other, base, base + PAGE - 1),
                    "B does not overlap [base, base + PAGE)");
            assertNull(MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, mine, base + 3 * PAGE,
                    base + 4 * PAGE - 1), "nothing after C");
            a.mmuIntervalNotifierRemove();
            b.mmuIntervalNotifierRemove();
            c.mmuIntervalNotifierRemove();
        });
    }

    @Test
    void put_outsideAnInvalidation_releasesAtOnce_andDropsTheMmPin() {
        List<String> released = new CopyOnWriteArrayList<>();
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            a.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ);
            MmuIntervalNotifierProposed2020.mmuIntervalNotifierPut(a, () -> released.add(k.current().name()));
            assertEquals(List.of("proc"), released, "released by the caller, before put returns");
            assertNull(MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, SET_SEQ, base, base));
            assertNull(a.deferredRelease());
        });
        assertClean(run);
        assertEquals(1, released.size());
    }

    @Test
    void put_fromTheCallbacks_ofTwoInvalidations_queuesOnce_andTheLastEndReleasesEachSubscription() {
        List<String> released = new CopyOnWriteArrayList<>();
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifierOps putOnUnmap = (s, r, seq) -> {
                s.mmuIntervalSetSeq(seq);
                MmuIntervalNotifierProposed2020.mmuIntervalNotifierPut(s,
                        () -> released.add(s.name() + " by " + k.current().name()));
                return true;
            };
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            MmuIntervalNotifier b = new MmuIntervalNotifier("B");
            a.mmuIntervalNotifierInsert(mm, base, PAGE, putOnUnmap);
            b.mmuIntervalNotifierInsert(mm, base + PAGE, PAGE, putOnUnmap);
            Completion started = new Completion(k, "started");
            Completion gate = new Completion(k, "gate");
            Completion ended = new Completion(k, "ended");
            var inv = inFlight(k, mm, "inv", base, base + 2 * PAGE, started, gate, ended);
            started.waitForCompletion();
            assertTrue(a.isDeferred() && b.isDeferred(), "both puts queued while the tree is frozen");
            assertEquals(List.of(), released);
            // A second invalidation of both: the queued subscriptions are still in the tree and
            // are called again, and put again; each stays queued once.
            MmuNotifierRange again = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base,
                    base + 2 * PAGE);
            mm.mmapReadLock();
            again.invalidateRangeStart();
            again.invalidateRangeEnd();
            mm.mmapReadUnlock();
            assertEquals(2, subsOf(mm).itree().deferredPeek());
            assertEquals(List.of(), released, "the held invalidation has not ended");
            gate.complete();
            ended.waitForCompletion();
            inv.join();
            assertEquals(List.of("A by inv", "B by inv").stream().sorted().toList(),
                    released.stream().sorted().toList(), "the task of the last end releases both");
            assertEquals(0, subsOf(mm).itree().deferredPeek());
            assertNull(MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, putOnUnmap, 0,
                    MmuNotifierRange.ULONG_MAX - 1), "neither is back in the tree");
            assertTrue(!a.isInTree() && !b.isInTree());
        });
        assertClean(run);
    }

    private static MmuNotifierSubscriptions subsOf(hmm4j.kernel.mm.MmStruct mm) {
        return mm.notifierSubscriptions();
    }
}
