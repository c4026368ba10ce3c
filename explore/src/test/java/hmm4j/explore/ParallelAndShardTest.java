package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.shard.ShardMerge;
import hmm4j.explore.shard.ShardResult;
import hmm4j.explore.strategy.StrategySpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ParallelAndShardTest {

    private static ExploreOptions options(String strategy, int runs) {
        return ExploreOptions.defaults().withStrategy(StrategySpec.parse(strategy)).withRuns(runs).withMinimise(false);
    }

    /** What must not depend on the worker count: runs done, and each failure's run, seed, strategy and schedule. */
    private static List<Object> fingerprint(ExplorationResult r) {
        List<Object> f = new ArrayList<>();
        f.add(r.runsDone());
        f.add(r.stoppedBy());
        for (FoundFailure x : r.failures()) {
            f.add(List.of(x.runIndex(), x.seed(), x.strategy(), x.headline(), x.run().decisions()));
        }
        return f;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"portfolio", "random", "pct:3", "pos"})
    void firstFailure_isTheSameForAnyWorkerCount(String strategy) {
        for (ClassicBugs.Bug bug : ClassicBugs.all()) {
            List<Object> one = fingerprint(Explorer.explore(bug.target(), options(strategy, 300).withWorkers(1)));
            for (int workers : new int[] {2, 3, 8}) {
                assertEquals(one, fingerprint(Explorer.explore(bug.target(), options(strategy, 300).withWorkers(workers))),
                        bug + " with " + workers + " workers");
            }
        }
    }

    @Test
    void everyFailingRun_isTheSameForAnyWorkerCount_whenRunningTheWholeBudget() {
        ExploreOptions o = options("portfolio", 120).withStopAtFirstFailure(false);
        ExplorationResult one = Explorer.explore(ClassicBugs.lostUpdate(), o.withWorkers(1));
        ExplorationResult four = Explorer.explore(ClassicBugs.lostUpdate(), o.withWorkers(4));
        assertTrue(one.failures().size() > 5, one.verdictLine());
        assertEquals(120, one.runsDone());
        assertEquals(fingerprint(one), fingerprint(four));
    }

    @Test
    void sharedLockGraph_givesTheSameResultForAnyWorkerCount() {
        ExploreOptions o = options("random", 200).withLanes(4);
        List<Object> one = fingerprint(Explorer.explore(ClassicBugs.lockOrderAcrossRuns(true), o.withWorkers(1)));
        List<Object> three = fingerprint(Explorer.explore(ClassicBugs.lockOrderAcrossRuns(true), o.withWorkers(3)));
        assertEquals(one, three);
    }

    @Test
    void failureFiles_areByteIdenticalForAnyWorkerCount(@TempDir Path dir) throws Exception {
        for (String strategy : List.of("pct:3", "portfolio")) {
            byte[] first = null;
            for (int workers : new int[] {1, 3, 8}) {
                ExplorationResult r = Explorer.explore(ClassicBugs.lostUpdate(), options(strategy, 300)
                        .withMinimise(true).withWorkers(workers).withOutDir(dir.resolve(strategy + "-" + workers)));
                byte[] bytes = java.nio.file.Files.readAllBytes(r.failure().orElseThrow().file().orElseThrow());
                if (first == null) {
                    first = bytes;
                } else {
                    assertEquals(new String(first, java.nio.charset.StandardCharsets.UTF_8),
                            new String(bytes, java.nio.charset.StandardCharsets.UTF_8), strategy + ", " + workers + " workers");
                    assertTrue(java.util.Arrays.equals(first, bytes), strategy + ", " + workers + " workers");
                }
            }
        }
    }

    private static TreeSet<Integer> failingRuns(ExplorationResult r) {
        TreeSet<Integer> s = new TreeSet<>();
        r.failures().forEach(f -> s.add(f.runIndex()));
        return s;
    }

    @Test
    void shards_coverTheRunSpaceExactlyOnce() {
        ExploreOptions o = options("portfolio", 90).withStopAtFirstFailure(false).withWorkers(2);
        ExplorationResult whole = Explorer.explore(ClassicBugs.checkThenAct(), o);
        TreeSet<Integer> union = new TreeSet<>();
        long runs = 0;
        for (int i = 0; i < 3; i++) {
            ExplorationResult part = Explorer.explore(ClassicBugs.checkThenAct(), o.withShard(new Shard(i, 3)));
            Shard shard = new Shard(i, 3);
            part.failures().forEach(f -> assertTrue(shard.owns(f.runIndex()), "run " + f.runIndex() + " in shard " + shard));
            assertEquals(30, part.runsDone());
            runs += part.runsDone();
            union.addAll(failingRuns(part));
        }
        assertEquals(90, runs);
        assertEquals(failingRuns(whole), union, "a run fails in its shard exactly when it fails unsharded");
    }

    @Test
    void merge_keepsTheEarliestFailingRun_andNamesMissingShards(@TempDir Path dir) throws Exception {
        List<ShardResult> results = new ArrayList<>();
        int earliest = Integer.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            ExplorationResult part = Explorer.explore(ClassicBugs.lostWakeUp(),
                    options("random", 400).withShard(new Shard(i, 4)));
            earliest = Math.min(earliest, part.failure().orElseThrow().runIndex());
            Path file = dir.resolve(ShardResult.fileName("lost-wake-up", new Shard(i, 4)));
            ShardMerge.write(ShardResult.of(part), file);
            results.add(ShardMerge.read(file));
        }
        ShardMerge.Merged all = ShardMerge.merge(results);
        assertEquals(earliest, all.failure().orElseThrow().runIndex());
        assertEquals(List.of(), all.missing());
        ExplorationResult whole = Explorer.explore(ClassicBugs.lostWakeUp(), options("random", 400).withLanes(4));
        assertEquals(whole.failure().orElseThrow().runIndex(), earliest,
                "without shared state, the earliest shard failure is the unsharded first failure");
        ShardMerge.Merged some = ShardMerge.merge(results.subList(1, 3));
        assertEquals(List.of(0, 3), some.missing());
        assertTrue(some.verdictLine().contains("missing shards [0, 3]"), some.verdictLine());
    }

    @Test
    void merge_rejectsShardsOfDifferentExplorations_andDuplicates() {
        ShardResult a = ShardResult.of(Explorer.explore(ClassicBugs.lockedUpdate(), options("random", 10).withShard(new Shard(0, 2))));
        ShardResult b = ShardResult.of(Explorer.explore(ClassicBugs.lockedUpdate(), options("pos", 10).withShard(new Shard(1, 2))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(a, b)));
        assertTrue(e.getMessage().contains("strategy pos"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(a, a)));
        assertTrue(e.getMessage().contains("appears twice"), e.getMessage());
    }

    @Test
    void dfs_cannotBeSharded() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> options("dfs:2", 10).withShard(new Shard(0, 2)));
        assertTrue(e.getMessage().contains("cannot be sharded"), e.getMessage());
    }

    @Test
    void timeBudget_endsTheExplorationBeforeTheRunBudget() {
        ExplorationResult r = Explorer.explore(ClassicBugs.lockedUpdate(),
                options("random", 1_000_000).withTimeBudget(Duration.ofNanos(1)));
        assertEquals(ExplorationResult.StopReason.TIME, r.stoppedBy());
        assertTrue(r.runsDone() < 1_000_000);
        ExplorationResult generous = Explorer.explore(ClassicBugs.lockedUpdate(),
                options("random", 50).withTimeBudget(Duration.ofHours(1)));
        assertEquals(ExplorationResult.StopReason.RUNS, generous.stoppedBy());
        assertEquals(50, generous.runsDone());
    }

    @Test
    void shard_parsesAndOwnsRunsByIndexModuloCount() {
        Shard s = Shard.parse("2/5");
        assertEquals(new Shard(2, 5), s);
        assertTrue(s.owns(7));
        assertEquals(12, s.runIndexAt(2));
        assertEquals(2, s.runsBelow(10));
        assertEquals(0, Shard.parse("0/1").index());
        for (String bad : new String[] {"5/5", "x/2", "1", "-1/3", "0/0"}) {
            assertThrows(IllegalArgumentException.class, () -> Shard.parse(bad), bad);
        }
    }
}
