package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.replay.FailureFiles;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lockdep graph accumulates across the runs of an exploration through the shared context. */
class LockOrderAcrossRunsTest {

    private static ExploreOptions options() {
        return ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM).withRuns(200).withLanes(2).withWorkers(2);
    }

    @Test
    void cycleSpreadOverTwoRuns_isReported_withTheSharedGraph(@TempDir Path dir) {
        ExplorationResult r = Explorer.explore(ClassicBugs.lockOrderAcrossRuns(true), options().withOutDir(dir));
        FoundFailure f = r.failure().orElseThrow(() -> new AssertionError(r.verdictLine()));
        assertEquals(FailureKind.LOCK_ORDER_CYCLE, f.failure().orElseThrow().kind());
        assertTrue(f.runsBeforeInLane() > 0, "one run holds one order only");
        assertTrue(f.usedShared());
        assertTrue(String.join("\n", f.failure().get().details()).contains("earlier run"),
                "the existing chain names the earlier run");
        ReplayResult replay = Explorer.replay(f.file().orElseThrow(), ClassicBugs.lockOrderAcrossRuns(true));
        assertTrue(replay.reproduced(), "replay rebuilds the lane's graph first: " + replay.verdictLine());
        assertTrue(FailureFiles.read(f.file().get()).exploration().sharedState());
    }

    @Test
    void explorationRunsRecordNoFrames_butTheReportedFailureAndTheEarlierRunsItNamesHaveThem() {
        ExplorationResult r = Explorer.explore(ClassicBugs.lockOrderAcrossRuns(true), options());
        Failure.LockOrderCycle cycle = (Failure.LockOrderCycle) r.failure().orElseThrow().failure().orElseThrow();
        assertTrue(cycle.site().where().startsWith("ClassicBugs.lambda$"), cycle.site().toString());
        for (Failure.ChainEntry e : cycle.existingChain()) {
            assertTrue(e.site().where().startsWith("ClassicBugs.lambda$"),
                    "the lane's earlier runs are re-run with frames: " + e.line());
        }
    }

    @Test
    void notStoppingAtTheFirstFailure_laterFailuresKeepTheirFrames() {
        ExplorationResult r = Explorer.explore(ClassicBugs.abBaLockOrder(),
                ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM).withRuns(40).withWorkers(1)
                        .withStopAtFirstFailure(false));
        assertTrue(r.failures().size() > 1, r.verdictLine());
        for (FoundFailure f : r.failures()) {
            f.failure().ifPresent(x -> assertFalse(x.site().frames().isEmpty(), x.site().toString()));
        }
    }

    @Test
    void sameRuns_withAGraphPerRun_findNothing() {
        ExplorationResult r = Explorer.explore(ClassicBugs.lockOrderAcrossRuns(false), options());
        assertTrue(r.clean(), r.verdictLine());
        assertEquals(200, r.runsDone());
    }
}
