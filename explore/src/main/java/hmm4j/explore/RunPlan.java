package hmm4j.explore;

import hmm4j.explore.strategy.DfsSearch;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Strategy;
import java.util.Optional;

/**
 * The runs of an exploration and their order: which run indices the shard owns, how they
 * are split into lanes, and the strategy of each run. A lane yields its runs in ascending
 * index; given the same plan, a lane yields the same runs with the same strategies every
 * time, which is what makes results independent of the worker count and lets a replay
 * rebuild a lane's shared objects by re-running its earlier runs.
 *
 * <p>Seeded strategies: position {@code p} of the shard (run index
 * {@code shard.index + shard.count * p}) belongs to lane {@code p mod lanes}. DFS: one lane,
 * runs numbered in search order.
 */
@HiddenFromSites
final class RunPlan {
    private final StrategySpec strategy;
    private final long firstSeed;
    private final int runs;
    private final Shard shard;
    private final int lanes;
    private final long runLength;

    /** @throws IllegalArgumentException when {@code lanes} or {@code runs} is not positive */
    RunPlan(StrategySpec strategy, long firstSeed, int runs, Shard shard, int lanes, long runLength) {
        if (lanes < 1) throw new IllegalArgumentException("lanes must be at least 1: " + lanes);
        if (runs < 1) throw new IllegalArgumentException("runs must be positive: " + runs);
        this.strategy = strategy;
        this.firstSeed = firstSeed;
        this.runs = runs;
        this.shard = shard;
        this.lanes = strategy.sequential() ? 1 : lanes;
        this.runLength = runLength;
    }

    int lanes() {
        return lanes;
    }

    long runLength() {
        return runLength;
    }

    long seedOf(int runIndex) {
        return firstSeed + runIndex;
    }

    /**
     * Why run {@code runIndex} cannot be the {@code before}-th run of lane {@code lane} in this
     * plan (another shard owns it, or it belongs to another lane or place), or null when it is.
     */
    String placeProblem(int runIndex, int lane, int before) {
        int expectedLane;
        long expectedBefore;
        if (strategy.sequential()) {
            expectedLane = 0;
            expectedBefore = runIndex;
        } else {
            if (!shard.owns(runIndex)) {
                return "run " + runIndex + " is not in shard " + shard;
            }
            long position = (runIndex - shard.index()) / shard.count();
            expectedLane = (int) (position % lanes);
            expectedBefore = position / lanes;
        }
        if (lane != expectedLane || before != expectedBefore) {
            return "run " + runIndex + " is run " + expectedBefore + " of lane " + expectedLane + " of the exploration ("
                    + lanes + " lanes), not run " + before + " of lane " + lane;
        }
        return null;
    }

    /** The runs of lane {@code lane}, from its first. */
    LaneSource lane(int lane) {
        return strategy.sequential() ? new DfsLane() : new SeededLane(lane);
    }

    /** One planned run. */
    record PlannedRun(int runIndex, long seed, Strategy strategy, int lane, int runsBeforeInLane) {
    }

    /** The runs of one lane, in order. Not thread-safe: a lane is used by one worker at a time. */
    interface LaneSource {
        /** The index of the next run, or -1 when the lane has no more runs. */
        int peek();

        /** The next run; only when {@link #peek} is not -1. */
        PlannedRun next();

        /** The run last returned by {@link #next} has finished. */
        void finished();

        /** For a search: the bound at which its space was exhausted, once it is. */
        default Optional<Integer> exhaustedAtBound() {
            return Optional.empty();
        }

        /** For a search: true when its bound cut off schedules. */
        default boolean pruned() {
            return false;
        }
    }

    private final class SeededLane implements LaneSource {
        private final int lane;
        private int taken;

        SeededLane(int lane) {
            this.lane = lane;
        }

        @Override
        public int peek() {
            long position = lane + (long) lanes * taken;
            long index = shard.runIndexAt(position);
            return index < runs ? (int) index : -1;
        }

        @Override
        public PlannedRun next() {
            int index = peek();
            if (index < 0) throw new IllegalStateException("lane " + lane + " has no more runs");
            long seed = seedOf(index);
            PlannedRun p = new PlannedRun(index, seed, strategy.forRun(index, seed, runLength), lane, taken);
            taken++;
            return p;
        }

        @Override
        public void finished() {
        }
    }

    private final class DfsLane implements LaneSource {
        private final DfsSearch search = new DfsSearch(strategy.parameter());
        private int taken;

        @Override
        public int peek() {
            return search.exhausted() || taken >= runs ? -1 : taken;
        }

        @Override
        public PlannedRun next() {
            Strategy s = search.nextRun().orElseThrow(() -> new IllegalStateException("dfs space exhausted"));
            int index = taken++;
            return new PlannedRun(index, seedOf(index), s, 0, index);
        }

        @Override
        public void finished() {
            search.runFinished();
        }

        @Override
        public Optional<Integer> exhaustedAtBound() {
            return search.exhausted() ? Optional.of(search.bound()) : Optional.empty();
        }

        @Override
        public boolean pruned() {
            return search.pruned();
        }
    }
}
