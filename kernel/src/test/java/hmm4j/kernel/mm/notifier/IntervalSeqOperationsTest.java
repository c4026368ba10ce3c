package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.sim.Op;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The sequence of each interval subscription is an object of its own as far as scheduling is
 * concerned: the reads of two subscriptions' sequences print alike
 * ({@code READ_ONCE(interval_sub->invalidate_seq)}) but act on two targets, so they never race,
 * while the invalidation's {@code WRITE_ONCE} of one subscription's sequence races with the
 * reads of that sequence only.
 */
class IntervalSeqOperationsTest {
    private static final String READ = "READ_ONCE(interval_sub->invalidate_seq)";
    private static final String WRITE = "WRITE_ONCE(interval_sub->invalidate_seq)";

    /** The typed operations of the trace's events labelled {@code label}, in order. */
    private static List<Op> ops(RunResult r, String label) {
        return r.trace().stream().filter(e -> e.kind() == TraceEvent.Kind.OPERATION && e.op().equals(label))
                .map(e -> e.operation().orElseThrow()).toList();
    }

    @Test
    void twoSubscriptionsSequences_areTwoTargets_andOnlyTheWrittenOneRaces() {
        RunResult r = runProcess(5, (k, mm, base) -> {
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            MmuIntervalNotifier b = new MmuIntervalNotifier("B");
            assertEquals(0, a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, new SeqRecorder()));
            assertEquals(0, b.mmuIntervalNotifierInsert(mm, base + 8 * PAGE, 4 * PAGE, new SeqRecorder()));
            long seqA = a.mmuIntervalReadBegin();
            long seqB = b.mmuIntervalReadBegin();
            assertEquals(0, Mmap.munmap(mm, base + PAGE, PAGE)); // invalidates A only
            assertTrue(a.mmuIntervalCheckRetry(seqA));
            assertFalse(b.mmuIntervalCheckRetry(seqB));
            a.mmuIntervalNotifierRemove();
            b.mmuIntervalNotifierRemove();
        });
        assertClean(r);
        List<Op> reads = ops(r, READ);
        List<Op> writes = ops(r, WRITE);
        assertEquals(4, reads.size(), "read_begin and check_retry of A and B: " + reads);
        assertEquals(1, writes.size(), "A's set_seq: " + writes);
        Op readA = reads.get(0);
        Op readB = reads.get(1);
        Op writeA = writes.get(0);

        assertEquals(readA.label(), readB.label());
        assertNotEquals(readA.target(), readB.target(), "two subscriptions, two objects");
        assertEquals("A->invalidate_seq", readA.target().label());
        assertEquals("B->invalidate_seq", readB.target().label());
        assertEquals(readA.target(), reads.get(2).target(), "A's read_begin and check_retry read one sequence");
        assertEquals(readB.target(), reads.get(3).target());
        assertEquals(readA.target(), writeA.target());

        assertFalse(readA.racesWith(readB), "reads of two sequences");
        assertFalse(readA.racesWith(reads.get(2)), "two reads of one sequence");
        assertTrue(writeA.racesWith(readA), "a write and a read of one sequence");
        assertFalse(writeA.racesWith(readB), "A's write and B's read");
    }
}
