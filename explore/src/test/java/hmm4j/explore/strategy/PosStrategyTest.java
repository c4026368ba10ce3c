package hmm4j.explore.strategy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.SchedulingPoint;
import hmm4j.sim.Task;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * POS re-samples the priority of a pending operation exactly when the operation that just ran
 * races with it: the same target, at least one a write. Labels play no part: the sequences of
 * two interval subscriptions print alike and are two objects.
 */
class PosStrategyTest {
    private static final Op.Kind READ_ONCE = new Op.Kind("READ_ONCE", Op.Access.READ);
    private static final Op.Kind WRITE_ONCE = new Op.Kind("WRITE_ONCE", Op.Access.WRITE);
    private static final String SEQ = "interval_sub->invalidate_seq";

    private final Kernel kernel = Kernel.controlled(1);
    private final Task reader = kernel.spawnKthread("reader", self -> { });
    private final Task writer = kernel.spawnKthread("writer", self -> { });
    private final List<Task> both = List.of(reader, writer);
    /** Two subscriptions' sequences: one label, two objects. */
    private final Op.Target seqA = kernel.newTarget(SEQ);
    private final Op.Target seqB = kernel.newTarget(SEQ);
    private final Op elsewhere = new Op(WRITE_ONCE, kernel.newTarget("elsewhere"), "WRITE_ONCE(elsewhere)");

    /**
     * The reader stops at {@code readerOp}, then the writer stops at {@code writerOp} and runs
     * it (reaching its next point); returns whether the reader's priority was re-sampled when
     * the writer's operation ran.
     */
    private boolean resampled(Op readerOp, Op writerOp, long seed) {
        PosStrategy pos = new PosStrategy(seed);
        pos.pick(new SchedulingPoint(1, null, both, new Op(Op.Kind.START, kernel.newTarget("machine"), "start")));
        pos.pick(new SchedulingPoint(2, reader, both, readerOp));
        pos.pick(new SchedulingPoint(3, writer, both, writerOp));
        double before = pos.priority(reader.id());
        pos.pick(new SchedulingPoint(4, writer, both, elsewhere));
        return pos.priority(reader.id()) != before;
    }

    @Test
    void readsOfTwoSubscriptionsSequences_areDistinctObjects_evenWithOneLabel() {
        Op readA = new Op(READ_ONCE, seqA, "READ_ONCE(" + SEQ + ")");
        Op writeB = new Op(WRITE_ONCE, seqB, "WRITE_ONCE(" + SEQ + ")");
        assertEquals(seqA.label(), seqB.label(), "labelled alike");
        assertNotEquals(seqA, seqB, "two objects");
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(false, resampled(readA, writeB, seed), "seed " + seed);
        }
    }

    @Test
    void aWriteAndAReadOfOneObject_race() {
        Op readA = new Op(READ_ONCE, seqA, "READ_ONCE(" + SEQ + ")");
        Op writeA = new Op(WRITE_ONCE, seqA, "WRITE_ONCE(" + SEQ + ")");
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(true, resampled(readA, writeA, seed), "seed " + seed);
        }
    }

    @Test
    void twoReadsOfOneObject_doNotRace() {
        Op readA = new Op(READ_ONCE, seqA, "READ_ONCE(" + SEQ + ")");
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(false, resampled(readA, readA, seed), "seed " + seed);
        }
    }

    @Test
    void operationsWithoutAnObjectInTheirLabel_stillRaceOnTheirTarget() {
        // Labels without parentheses named no object for the text-based POS: now the target decides.
        Op.Target list = kernel.newTarget("mm#1->notifier_subscriptions->list");
        Op walk = new Op(new Op.Kind("mmu notifier list walk", Op.Access.READ), list, "mmu notifier list walk");
        Op unlink = new Op(new Op.Kind("hlist_del_init_rcu", Op.Access.WRITE), list, "unlink");
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(true, resampled(walk, unlink, seed), "seed " + seed);
        }
    }
}
