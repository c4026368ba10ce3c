package hmm4j.explore;

import hmm4j.explore.RunPlan.LaneSource;
import hmm4j.explore.RunPlan.PlannedRun;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Strategy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Executes single runs of a target: a fresh kernel, the set-up, the run. */
@HiddenFromSites
final class Runs {
    private Runs() {
    }

    /**
     * What a run records. Runs are deterministic functions of their schedule, so only the
     * runs a report shows need sites: exploring records neither trace nor code frames (a
     * site is then task and step), and the first failure is replayed {@link #TRACED}.
     */
    enum Recording {
        /** No trace, sites without code frames: the runs of an exploration. */
        BARE,
        /** No trace, sites with code frames: runs whose failures or checker records are shown. */
        SITES,
        /** The trace and every code site: the runs a report prints. */
        TRACED
    }

    /** A finished run and whether its set-up used shared objects. */
    record Outcome(PlannedRun run, RunResult result, boolean usedShared) {
    }

    /**
     * Runs {@code target} once with {@code strategy} on a kernel seeded {@code seed}.
     *
     * @param recording what the run records: the trace and sites for reports, less for speed
     * @throws ExplorationException when the set-up throws
     */
    static Outcome execute(ExploreTarget target, PlannedRun run, Strategy strategy, SharedStore store, long maxSteps,
                           Recording recording) {
        return execute(target, run, strategy, store, maxSteps, recording, null);
    }

    /** An exploration whose runs are in progress, for a report made before they return ({@link #inFlight}). */
    record Exploration(ExploreTarget target, ExploreOptions options, RunPlan plan) {
    }

    /** A run of {@code exploration} in progress. */
    record InFlight(Exploration exploration, PlannedRun run, ExplorationContext context) {
    }

    private static final Map<Kernel, InFlight> IN_FLIGHT = new ConcurrentHashMap<>();

    /** The exploration's run that {@code kernel} is running now, or null (a replay, a minimisation run). */
    static InFlight inFlight(Kernel kernel) {
        return IN_FLIGHT.get(kernel);
    }

    /**
     * {@link #execute(ExploreTarget, PlannedRun, Strategy, SharedStore, long, Recording)} as a
     * run of {@code exploration} (null for none): known as {@link #inFlight} while it runs.
     */
    static Outcome execute(ExploreTarget target, PlannedRun run, Strategy strategy, SharedStore store, long maxSteps,
                           Recording recording, Exploration exploration) {
        boolean traced = recording == Recording.TRACED;
        Kernel kernel = Kernel.builder().seed(run.seed()).strategy(strategy).maxSteps(maxSteps)
                .trace(traced).sites(traced).siteFrames(recording != Recording.BARE).build();
        ExplorationContext context = new ExplorationContext(store, run.runIndex(), run.seed());
        try {
            target.setup().setUp(kernel, context);
        } catch (Throwable e) { // every kind, a StackOverflowError or an OutOfMemoryError too: one report
            throw new ExplorationException("the set-up of " + target.name() + " failed in run " + run.runIndex()
                    + " (seed " + run.seed() + "): " + e, e);
        }
        if (exploration == null) {
            return new Outcome(run, kernel.run(), context.usedShared());
        }
        IN_FLIGHT.put(kernel, new InFlight(exploration, run, context));
        try {
            return new Outcome(run, kernel.run(), context.usedShared());
        } finally {
            IN_FLIGHT.remove(kernel);
        }
    }

    /** Runs {@code run} with its own strategy, untraced and without code frames. */
    static Outcome execute(ExploreTarget target, PlannedRun run, SharedStore store, long maxSteps) {
        return execute(target, run, run.strategy(), store, maxSteps, Recording.BARE);
    }

    /**
     * The shared objects lane {@code lane} of {@code plan} held just before run
     * {@code runIndex}: a fresh store fed by re-running the lane's earlier runs in order.
     * Bounded: a lane's run indices rise, so at most {@code runIndex} runs are re-run; a lane
     * that does not advance or passes {@code runIndex} without reaching it is an error. The
     * runs are re-run with code frames, since what they leave in the shared objects (a lock
     * graph's dependencies and their sites) can appear in the report of run {@code runIndex}.
     *
     * @throws ExplorationException when the lane has no run {@code runIndex}
     */
    static SharedStore rebuild(ExploreTarget target, RunPlan plan, int lane, int runIndex, long maxSteps) {
        return rebuild(target, plan, lane, runIndex, maxSteps, Recording.SITES);
    }

    /** {@link #rebuild(ExploreTarget, RunPlan, int, int, long)}, re-running with {@code recording}. */
    static SharedStore rebuild(ExploreTarget target, RunPlan plan, int lane, int runIndex, long maxSteps,
                               Recording recording) {
        SharedStore store = new SharedStore();
        LaneSource source = plan.lane(lane);
        int previous = -1;
        for (long rerun = 0; rerun <= runIndex; rerun++) {
            int next = source.peek();
            if (next < 0 || next > runIndex || next <= previous) {
                break;
            }
            PlannedRun p = source.next();
            if (next == runIndex) {
                return store;
            }
            execute(target, p, p.strategy(), store, maxSteps, recording);
            source.finished();
            previous = next;
        }
        throw new ExplorationException("cannot rebuild run " + runIndex + ": lane " + lane
                + " of the exploration has no such run");
    }
}
