package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.Decision;
import hmm4j.sim.TestOps;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A driver whose task loops without a scheduling point is reported, and does not poison the
 * JVM: it is reported from the run that found it (no replay or minimisation, which would wait
 * for the bound again), and a clean exploration in the same JVM afterwards (a surefire JVM running many
 * {@code @Explore} tests) is clean, while the runaway tasks still spin on their abandoned
 * threads.
 */
class RunawayDriverTest {

    private static ExploreOptions options() {
        return ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM).withRuns(50).withWorkers(2).withLanes(2)
                .withMinimise(false);
    }

    @Test
    void aRunawayLoop_isReported_thenACleanExplorationInTheSameJvm_isClean(@TempDir Path dir) {
        AtomicBoolean release = new AtomicBoolean();
        ExploreTarget runaway = ExploreTarget.of("runaway", (k, ctx) -> {
            k.spawnKthread("spinner", self -> {
                TestOps.point(self.kernel(), "before the loop");
                while (!release.get()) {
                    Thread.onSpinWait();
                }
            });
            k.spawnKthread("other", self -> TestOps.point(self.kernel(), "p"));
        });
        String old = System.getProperty("hmm4j.wallTimeoutMillis");
        try {
            System.setProperty("hmm4j.wallTimeoutMillis", "300");
            ExplorationResult bad = Explorer.explore(runaway, options().withOutDir(dir));
            FoundFailure found = bad.failure().orElseThrow();
            // Reported from the run found (a replay would spin for the bound again), with its file.
            assertTrue(Files.isRegularFile(found.file().orElseThrow()));
            assertTrue(found.minimisation().isEmpty());
            Failure f = found.failure().orElseThrow();
            Failure.StepBoundExceeded bound = (Failure.StepBoundExceeded) f;
            assertEquals("wall-clock time", bound.bound());
            assertTrue(bound.detail().startsWith("spinner ran 300 ms"), bound.detail());
            restore(old);
            for (ExploreTarget clean : ClassicBugs.correct()) {
                ExplorationResult r = Explorer.explore(clean, options().withRuns(100));
                assertTrue(r.clean(), clean.name() + ": " + r.verdictLine());
                assertEquals(100, r.runsDone(), clean.name());
            }
        } finally {
            restore(old);
            release.set(true);
        }
    }

    /**
     * The time to report a runaway is the wall-clock bound once, counted in bound waits: each
     * run that reaches the loop enters it once and spins until its abandoned thread is
     * interrupted, so the entries are the runs that waited for the bound. Under a strategy
     * that calibrates (PCT, the portfolio) the first calibration run is the runaway: it is
     * reported and written from there, not found again by the exploration's first run.
     */
    @ParameterizedTest
    @ValueSource(strings = {"portfolio", "pct:3", "random", "pos"})
    void aRunaway_isReportedAfterOneWaitForTheBound_andItsFileReplaysIt(String strategy, @TempDir Path dir) {
        AtomicInteger waits = new AtomicInteger();
        ExploreTarget runaway = ExploreTarget.of("runaway", (k, ctx) -> {
            k.spawnKthread("spinner", self -> {
                TestOps.point(self.kernel(), "before the loop");
                waits.incrementAndGet();
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.onSpinWait();
                }
            });
            k.spawnKthread("other", self -> TestOps.point(self.kernel(), "p"));
        });
        String old = System.getProperty("hmm4j.wallTimeoutMillis");
        try {
            // The bound counts from the run's start: wide enough that a loaded machine still
            // brings the run to its loop inside it (200 ms once cut a replay short there).
            System.setProperty("hmm4j.wallTimeoutMillis", "500");
            ExplorationResult r = Explorer.explore(runaway, ExploreOptions.defaults()
                    .withStrategy(StrategySpec.parse(strategy)).withRuns(20).withWorkers(1).withOutDir(dir));
            assertEquals(1, waits.get(), "bound waits before the report");
            FoundFailure found = r.failure().orElseThrow();
            assertEquals("wall-clock time", ((Failure.StepBoundExceeded) found.failure().orElseThrow()).bound());
            // The report is traced up to the runaway point without waiting again: its events reach
            // the last step, whose decision resumed the spinner into its loop.
            List<TraceEvent> trace = found.run().trace();
            assertFalse(trace.isEmpty(), "traced");
            assertEquals(found.run().steps(), trace.get(trace.size() - 1).step(), trace.toString());
            List<Decision> decisions = found.run().decisions();
            assertEquals(found.run().steps(), decisions.size());
            assertEquals("spinner", found.run().taskNames().get(decisions.get(decisions.size() - 1).chosen() - 1));
            Path file = found.file().orElseThrow();
            ReplayResult replay = Explorer.replay(file, runaway);
            assertTrue(replay.reproduced(), replay.verdictLine());
            assertEquals(2, waits.get(), "the replay waits for the bound once");
        } finally {
            restore(old);
        }
    }

    /**
     * Sharded, the runaway is still waited for once per shard: each shard calibrates alike,
     * meets it in its first calibration run and reports it from there (before this, each shard
     * waited again in its own runs).
     */
    @ParameterizedTest
    @ValueSource(strings = {"portfolio", "pct:3"})
    void aRunaway_underShardedExploration_isWaitedForOncePerShard(String strategy, @TempDir Path dir) {
        AtomicInteger waits = new AtomicInteger();
        ExploreTarget runaway = ExploreTarget.of("runaway", (k, ctx) -> {
            k.spawnKthread("spinner", self -> {
                TestOps.point(self.kernel(), "before the loop");
                waits.incrementAndGet();
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.onSpinWait();
                }
            });
            k.spawnKthread("other", self -> TestOps.point(self.kernel(), "p"));
        });
        String old = System.getProperty("hmm4j.wallTimeoutMillis");
        try {
            // The bound counts from the run's start: wide enough that a loaded machine still
            // brings the run to its loop inside it (200 ms once cut a replay short there).
            System.setProperty("hmm4j.wallTimeoutMillis", "500");
            for (int i = 0; i < 2; i++) {
                ExplorationResult r = Explorer.explore(runaway, ExploreOptions.defaults()
                        .withStrategy(StrategySpec.parse(strategy)).withRuns(20).withWorkers(1)
                        .withShard(Shard.parse(i + "/2")).withOutDir(dir.resolve("shard" + i)));
                assertEquals(i + 1, waits.get(), "bound waits after shard " + i);
                FoundFailure found = r.failure().orElseThrow();
                assertEquals("wall-clock time", ((Failure.StepBoundExceeded) found.failure().orElseThrow()).bound());
                assertTrue(Explorer.isCalibrationFailure(found.runIndex(), found.strategy(),
                        StrategySpec.parse(strategy).text()), found.strategy());
            }
        } finally {
            restore(old);
        }
    }

    private static void restore(String old) {
        if (old == null) {
            System.clearProperty("hmm4j.wallTimeoutMillis");
        } else {
            System.setProperty("hmm4j.wallTimeoutMillis", old);
        }
    }
}
