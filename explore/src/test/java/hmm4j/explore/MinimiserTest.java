package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.minimise.Minimisation;
import hmm4j.explore.minimise.OrderStrategy;
import hmm4j.explore.minimise.Schedules;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.Decision;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.sync.Cell;
import java.util.List;
import org.junit.jupiter.api.Test;

class MinimiserTest {

    /** The lost update with three bystander tasks that add switches but play no part. */
    static ExploreTarget noisyLostUpdate() {
        return ExploreTarget.of("noisy-lost-update", (k, ctx) -> {
            ClassicBugs.lostUpdate().setup().setUp(k, ctx);
            for (int i = 0; i < 3; i++) {
                Cell<Integer> own = new Cell<>(k, "own" + i, 0);
                k.spawnKthread("bystander" + i, self -> {
                    for (int j = 0; j < 4; j++) {
                        own.writeOnce(j);
                    }
                });
            }
        });
    }

    @Test
    void randomWalkSchedule_isMinimisedToOnePreemption() {
        ExplorationResult r = Explorer.explore(noisyLostUpdate(),
                ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM).withRuns(300));
        FoundFailure f = r.failure().orElseThrow();
        Minimisation m = f.minimisation().orElseThrow();
        assertTrue(m.originalPreemptions() > 3, "the random walk preempts a lot: " + m.summary());
        assertEquals(1, m.preemptions(), m.summary());
        assertTrue(m.contextSwitches() < m.originalContextSwitches(), m.summary());
        assertEquals(Schedules.preemptions(m.decisions()), m.preemptions());
        assertTrue(r.failure().get().headline().contains("lost update"));
    }

    @Test
    void minimisation_isDeterministic() {
        ExploreOptions o = ExploreOptions.defaults().withStrategy(StrategySpec.POS).withRuns(300);
        Minimisation a = Explorer.explore(noisyLostUpdate(), o).failure().orElseThrow().minimisation().orElseThrow();
        Minimisation b = Explorer.explore(noisyLostUpdate(), o.withWorkers(1)).failure().orElseThrow().minimisation()
                .orElseThrow();
        assertEquals(a, b);
    }

    @Test
    void twoPreemptionLostUpdate_needsASidewaysStep_andEndsAtOne() {
        // pct:3 from seed 1 finds the lost update with two preemptions: inc1 is preempted
        // before its read, inc0 before its write. Letting either go on first does not fail;
        // moving one block keeps two preemptions, and the next move then removes one.
        ExplorationResult r = Explorer.explore(ClassicBugs.lostUpdate(),
                ExploreOptions.defaults().withStrategy(StrategySpec.pct(3)).withRuns(300));
        Minimisation m = r.failure().orElseThrow().minimisation().orElseThrow();
        assertEquals(2, m.originalPreemptions(), m.summary());
        assertEquals(1, m.preemptions(), m.summary());
    }

    /** An operation labelled {@code label}: only the task order matters to what is counted. */
    private static Op op(String label) {
        return new Op(new Op.Kind(label, Op.Access.WRITE), new Op.Target(1, "x"), label);
    }

    @Test
    void schedules_countSwitchesAndPreemptions() {
        List<Decision> d = List.of(
                new Decision(1, 1, List.of(1, 2), op("start")),
                new Decision(2, 2, List.of(1, 2), op("READ_ONCE(x)")),    // preempts 1
                new Decision(3, 2, List.of(1, 2), op("WRITE_ONCE(x)")),
                new Decision(4, 1, List.of(1), op("exit t2")),             // 2 exited: a free switch
                new Decision(5, 1, List.of(1), op("READ_ONCE(x)")));
        assertEquals(2, Schedules.contextSwitches(d));
        assertEquals(1, Schedules.preemptions(d));
        assertEquals(List.of(1, 2, 2, 1, 1), Schedules.order(d));
        assertEquals(List.of(List.of(1, 1, 2, 2, 1), List.of(1, 1, 1, 2, 2)),
                Schedules.withoutPreemption(Schedules.order(d), 1));
        assertEquals(List.of(), Schedules.withoutPreemption(List.of(1, 2, 2), 1), "task 1 never runs again");
    }

    @Test
    void orderStrategy_passesOverTasksThatCannotRun_thenCompletesWithoutPreempting() {
        Kernel k = Kernel.builder().strategy(new OrderStrategy(List.of(2, 2, 2, 1))).build();
        Cell<Integer> x = new Cell<>(k, "x", 0);
        k.spawnKthread("a", self -> x.writeOnce(1));
        k.spawnKthread("b", self -> x.writeOnce(2));
        var r = k.run();
        // b: start, write, exit (its third entry finds b gone, so a takes it); then a to the end.
        assertEquals(List.of(2, 2, 1, 1), Schedules.order(r.decisions()));
        assertEquals(1, x.peek());
    }
}
