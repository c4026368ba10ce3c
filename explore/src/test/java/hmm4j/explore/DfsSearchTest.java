package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.minimise.Schedules;
import hmm4j.explore.strategy.DfsSearch;
import hmm4j.sim.Decision;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Strategy;
import hmm4j.sim.sync.Cell;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DfsSearchTest {

    /** Two tasks, each with {@code points} scheduling points, then exit. */
    private static RunResult run(Strategy s, int points) {
        Kernel k = Kernel.builder().strategy(s).trace(false).build();
        Cell<Integer> x = new Cell<>(k, "x", 0);
        for (int t = 0; t < 2; t++) {
            k.spawnKthread("t" + t, self -> {
                for (int i = 0; i < points; i++) {
                    x.writeOnce(i);
                }
            });
        }
        return k.run();
    }

    private static Set<List<Decision>> all(int bound, int points) {
        DfsSearch search = new DfsSearch(bound);
        Set<List<Decision>> schedules = new HashSet<>();
        int runs = 0;
        for (Optional<Strategy> s = search.nextRun(); s.isPresent(); s = search.nextRun()) {
            RunResult r = run(s.get(), points);
            assertTrue(r.clean(), r.toString());
            assertTrue(Schedules.preemptions(r.decisions()) <= bound, "schedule over the bound: " + r.decisions());
            assertTrue(schedules.add(r.decisions()), "schedule repeated: " + r.decisions());
            search.runFinished();
            runs++;
        }
        assertEquals(runs, search.runs());
        assertTrue(search.exhausted());
        return schedules;
    }

    /**
     * Without a binding bound the search enumerates every interleaving of the tasks' blocks
     * (each task has points + 1 blocks between its start, its points and its exit):
     * C(2(p+1), p+1) schedules.
     */
    @ParameterizedTest(name = "{0} points per task: {1} schedules")
    @CsvSource({"1, 6", "2, 20", "3, 70"})
    void unboundedSearch_enumeratesEveryInterleavingOnce(int points, int expected) {
        assertEquals(expected, all(100, points).size());
    }

    @ParameterizedTest(name = "{0} points per task, bound 0: 2 schedules")
    @CsvSource({"1", "2", "3"})
    void boundZero_runsEachTaskToCompletionInEitherOrder(int points) {
        Set<List<Decision>> s = all(0, points);
        assertEquals(2, s.size());
        s.forEach(d -> assertEquals(0, Schedules.preemptions(d)));
    }

    @ParameterizedTest(name = "bound {0} is a subset of bound {0}+1")
    @CsvSource({"0", "1", "2"})
    void largerBound_coversSmallerBound(int bound) {
        Set<List<Decision>> small = all(bound, 3);
        Set<List<Decision>> large = all(bound + 1, 3);
        assertTrue(large.containsAll(small));
        assertTrue(large.size() > small.size());
    }

    @org.junit.jupiter.api.Test
    void boundThatCutsNothing_isNotPruned() {
        DfsSearch search = new DfsSearch(100);
        for (Optional<Strategy> s = search.nextRun(); s.isPresent(); s = search.nextRun()) {
            run(s.get(), 1);
            search.runFinished();
        }
        assertFalse(search.pruned());
        DfsSearch bounded = new DfsSearch(0);
        for (Optional<Strategy> s = bounded.nextRun(); s.isPresent(); s = bounded.nextRun()) {
            run(s.get(), 1);
            bounded.runFinished();
        }
        assertTrue(bounded.pruned());
    }
}
