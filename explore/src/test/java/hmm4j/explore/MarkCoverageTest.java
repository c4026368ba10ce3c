package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.replay.FailureFiles;
import hmm4j.explore.shard.ShardMerge;
import hmm4j.explore.shard.ShardResult;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.Cell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MarkCoverageTest {
    private static final Mark EVERY = Mark.of("test.cover.every", "every run");
    private static final Mark ODD = Mark.of("test.cover.odd-seed", "runs with an odd seed");
    private static final Mark LATE = Mark.of("test.cover.late", "runs whose seed is 49 mod 50");
    private static final Mark NEVER = Mark.of("test.cover.never", "no run");

    /** Marks chosen by the run's seed; fails the runs whose seed is 10 mod 20 when {@code failing}. */
    private static ExploreTarget target(boolean failing) {
        return ExploreTarget.of("marks", (k, ctx) -> {
            Cell<Integer> c = new Cell<>(k, "c", 0);
            k.spawnKthread("t", self -> {
                c.writeOnce(1);
                k.mark(EVERY);
                if (k.seed() % 2 == 1) {
                    k.mark(ODD);
                }
                if (k.seed() % 50 == 49) {
                    k.mark(LATE);
                }
                if (failing && k.seed() % 20 == 10) {
                    ClassicBugs.violation(k, "seed 10 mod 20", "seed " + k.seed());
                }
            });
            k.spawnKthread("u", self -> c.readOnce());
        });
    }

    private static ExploreOptions options(int workers) {
        return ExploreOptions.defaults().withStrategy(StrategySpec.parse("random")).withRuns(200).withFirstSeed(1)
                .withMinimise(false).withWorkers(workers);
    }

    @Test
    void cleanExploration_countsEveryRunOfEachMark() {
        ExplorationResult r = Explorer.explore(target(false), options(1));
        assertTrue(r.clean());
        MarkCoverage m = r.marks();
        assertEquals(List.of(EVERY, LATE, ODD), m.marks());
        assertEquals(new MarkCoverage.Reached(EVERY, 200, 0), m.of(EVERY).orElseThrow());
        assertEquals(new MarkCoverage.Reached(ODD, 100, 0), m.of(ODD).orElseThrow());
        assertEquals(new MarkCoverage.Reached(LATE, 4, 48), m.of(LATE).orElseThrow());
        assertFalse(m.reached(NEVER));
        assertEquals(List.of(NEVER), m.missing(List.of(EVERY, NEVER, LATE)));
        assertEquals("test.cover.every (200 runs), test.cover.late (4 runs), test.cover.odd-seed (100 runs)",
                m.summary());
        assertEquals("none", MarkCoverage.NONE.summary());
    }

    @Test
    void shards_carryTheirMarks_andMergeSumsThemById(@TempDir Path dir) throws Exception {
        List<ShardResult> shards = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ExplorationResult r = Explorer.explore(target(false), options(1).withShard(new Shard(i, 2)));
            Path file = dir.resolve(ShardResult.fileName("marks", new Shard(i, 2)));
            ShardMerge.write(ShardResult.of(r), file);
            shards.add(ShardMerge.read(file));
        }
        // shard 0 owns the even run indices (odd seeds, seed 49 too), shard 1 the odd ones
        assertEquals(List.of(new ShardResult.ShardMark("test.cover.every", 100, 0),
                new ShardResult.ShardMark("test.cover.late", 4, 48),
                new ShardResult.ShardMark("test.cover.odd-seed", 100, 0)), shards.get(0).marks());
        assertEquals(List.of(new ShardResult.ShardMark("test.cover.every", 100, 1)), shards.get(1).marks());
        ShardMerge.Merged merged = ShardMerge.merge(shards);
        assertEquals(List.of(new ShardResult.ShardMark("test.cover.every", 200, 0),
                new ShardResult.ShardMark("test.cover.late", 4, 48),
                new ShardResult.ShardMark("test.cover.odd-seed", 100, 0)), merged.marks());
    }

    @Test
    void aShardFileWithoutMarks_readsAsNone(@TempDir Path dir) throws Exception {
        ExplorationResult r = Explorer.explore(target(false), options(1).withRuns(4));
        String json = FailureFiles.json().writeValueAsString(ShardResult.of(r));
        String old = json.replaceAll("(?s),\\s*\"marks\"\\s*:\\s*\\[.*?\\]", "");
        assertFalse(old.contains("\"marks\" :"), old);
        Path file = dir.resolve("old.json");
        Files.writeString(file, old);
        assertEquals(List.of(), ShardMerge.read(file).marks());
    }

    @Test
    void stoppingAtAFailure_countsOnlyTheRunsUpToIt_forAnyWorkerCount() {
        MarkCoverage one = Explorer.explore(target(true), options(1)).marks();
        // seed 10 is run 9: runs 0..9, five odd seeds, no seed 49
        assertEquals(List.of(new MarkCoverage.Reached(EVERY, 10, 0), new MarkCoverage.Reached(ODD, 5, 0)),
                one.reached());
        for (int workers : new int[] {2, 4, 8}) {
            ExplorationResult r = Explorer.explore(target(true), options(workers));
            assertEquals(9, r.failure().orElseThrow().runIndex());
            assertEquals(one, r.marks(), workers + " workers");
        }
    }

    @Test
    void wholeBudget_givesTheSameCoverageForAnyWorkerCount() {
        ExploreOptions o = options(1).withStopAtFirstFailure(false);
        MarkCoverage one = Explorer.explore(target(true), o).marks();
        assertEquals(new MarkCoverage.Reached(LATE, 4, 48), one.of(LATE).orElseThrow());
        assertEquals(one, Explorer.explore(target(true), o.withWorkers(4)).marks());
    }
}
