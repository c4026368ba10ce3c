package hmm4j.explore.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Decision;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Strategy;
import hmm4j.sim.sync.Cell;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

class StrategiesTest {

    /** Three tasks, four points each. */
    private static RunResult run(Strategy s) {
        Kernel k = Kernel.builder().strategy(s).trace(false).build();
        Cell<Integer> x = new Cell<>(k, "x", 0);
        for (int t = 0; t < 3; t++) {
            Cell<Integer> own = new Cell<>(k, "own" + t, 0);
            k.spawnKthread("t" + t, self -> {
                for (int i = 0; i < 2; i++) {
                    x.writeOnce(i);
                    own.writeOnce(i);
                }
            });
        }
        return k.run();
    }

    private static void deterministicAndVaried(LongFunction<Strategy> make) {
        Set<List<Decision>> schedules = new HashSet<>();
        for (long seed = 0; seed < 40; seed++) {
            List<Decision> a = run(make.apply(seed)).decisions();
            assertEquals(a, run(make.apply(seed)).decisions(), "seed " + seed);
            schedules.add(a);
        }
        assertTrue(schedules.size() > 10, "only " + schedules.size() + " schedules from 40 seeds");
    }

    @Test
    void pct_isDeterministicPerSeed_andVariesAcrossSeeds() {
        deterministicAndVaried(seed -> new PctStrategy(3, 15, seed));
    }

    @Test
    void pos_isDeterministicPerSeed_andVariesAcrossSeeds() {
        deterministicAndVaried(PosStrategy::new);
    }

    @Test
    void pct_changePointsAreDistinctSortedAndWithinTheRunLength() {
        for (long seed = 0; seed < 200; seed++) {
            long[] cp = new PctStrategy(5, 10, seed).changePoints();
            assertEquals(4, cp.length);
            for (int i = 0; i < cp.length; i++) {
                assertTrue(cp[i] >= 1 && cp[i] <= 10, "seed " + seed);
                assertTrue(i == 0 || cp[i] > cp[i - 1], "seed " + seed);
            }
        }
        assertArrayEquals(new long[] {1, 2}, new PctStrategy(5, 2, 7).changePoints(), "all steps when fewer");
        assertEquals(0, new PctStrategy(1, 10, 7).changePoints().length, "depth 1 has no change point");
    }

    @Test
    void pctDepth1_neverPreempts() {
        for (long seed = 0; seed < 30; seed++) {
            List<Decision> d = run(new PctStrategy(1, 20, seed)).decisions();
            assertEquals(0, hmm4j.explore.minimise.Schedules.preemptions(d), "seed " + seed);
        }
    }

    @Test
    void spec_parsesEveryForm_andWritesItBack() {
        assertEquals(StrategySpec.pct(3), StrategySpec.parse("pct"));
        assertEquals(StrategySpec.pct(5), StrategySpec.parse("PCT:5"));
        assertEquals(StrategySpec.dfs(2), StrategySpec.parse("dfs"));
        assertEquals(StrategySpec.dfs(0), StrategySpec.parse(" dfs:0 "));
        assertEquals(StrategySpec.RANDOM, StrategySpec.parse("random"));
        assertEquals(StrategySpec.POS, StrategySpec.parse("pos"));
        assertEquals(StrategySpec.PORTFOLIO, StrategySpec.parse("portfolio"));
        for (String s : List.of("random", "pct:3", "pos", "dfs:1", "portfolio")) {
            assertEquals(s, StrategySpec.parse(s).text());
        }
        for (String bad : List.of("", "walk", "pct:x", "pct:0", "dfs:-1", "random:2", "pos:1")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StrategySpec.parse(bad), bad);
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void portfolio_rotatesItsMembersByRunIndex() {
        StrategySpec p = StrategySpec.PORTFOLIO;
        int n = StrategySpec.PORTFOLIO_MEMBERS.size();
        for (int i = 0; i < 3 * n; i++) {
            assertEquals(StrategySpec.PORTFOLIO_MEMBERS.get(i % n), p.member(i));
        }
        assertTrue(p.forRun(0, 11, 30).describe().startsWith("pct(depth=3, steps=30, seed=11)"));
        assertEquals("random-walk(seed=12)", p.forRun(1, 12, 30).describe());
        assertEquals("pos(seed=13)", p.forRun(2, 13, 30).describe());
        assertEquals("pct(depth=2, steps=30, seed=14)", p.forRun(3, 14, 30).describe());
        assertEquals(p.forRun(0, 11, 30).describe(), p.forRun(4, 11, 30).describe(), "a run is its index, seed and length");
        assertNotEquals(p.forRun(0, 11, 30).describe(), p.forRun(0, 12, 30).describe());
        assertTrue(p.needsRunLength());
        assertThrows(IllegalStateException.class, () -> StrategySpec.dfs(2).forRun(0, 1, 1));
    }
}
