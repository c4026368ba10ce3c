package hmm4j.explore;

import hmm4j.explore.RunPlan.LaneSource;
import hmm4j.explore.RunPlan.PlannedRun;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunAbandoned;
import hmm4j.sim.RunResult;
import hmm4j.sim.RunWorker;
import hmm4j.sim.Mark;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a plan's lanes on a fixed pool of workers, one kernel per run.
 *
 * <p>Overview: a worker takes the free lane whose next run has the lowest index, runs it
 * and hands the lane back; a lane is never run by two workers at once, so its runs happen
 * in order and share their objects deterministically. When stopping at the first failure,
 * a failing run at index {@code f} bounds the work: no run above {@code f} starts, runs
 * below it still finish (one of them may fail too and become the first). The result keeps
 * only runs at or below the final bound, so it is the same for any number of workers.
 *
 * <p>Locking: all dispatch state is guarded by this engine's monitor; runs execute outside
 * it. Workers wait on the monitor only while every lane with work is busy.
 */
@HiddenFromSites
final class Engine {
    private final ExploreTarget target;
    private final ExploreOptions options;
    private final Lane[] lanes;
    private final long start;
    private final long deadline;
    private final Runs.Exploration exploration;

    // Guarded by this.
    private int bound = Integer.MAX_VALUE;
    private final List<Runs.Outcome> failures = new ArrayList<>();
    private final Map<Integer, Long> failureNanos = new HashMap<>();
    private int[] completed = new int[256];
    /** The mark set of each completed run, as an index into {@link #markSets}. */
    private int[] completedMarks = new int[256];
    private int completedCount;
    private final List<List<Mark>> markSets = new ArrayList<>(List.of(List.of()));
    private final Map<List<Mark>, Integer> markSetIndex = new HashMap<>(Map.of(List.of(), 0));
    private boolean timeUp;
    private RuntimeException error;
    private Error fatal;

    private static final class Lane {
        final LaneSource source;
        final SharedStore store = new SharedStore();
        boolean busy;

        Lane(LaneSource source) {
            this.source = source;
        }
    }

    /** What the engine found. */
    record Result(long runsDone, List<Runs.Outcome> failures, long nanosToFirstFailure, long totalNanos,
                  ExplorationResult.StopReason stoppedBy, Optional<Integer> exhaustedAtBound, boolean pruned,
                  MarkCoverage marks) {
    }

    /** @param start {@link System#nanoTime} at the start of the exploration, for the times reported */
    Engine(ExploreTarget target, ExploreOptions options, RunPlan plan, long start) {
        this.start = start;
        this.target = target;
        this.options = options;
        this.exploration = new Runs.Exploration(target, options, plan);
        this.lanes = new Lane[plan.lanes()];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new Lane(plan.lane(i));
        }
        this.deadline = options.timeBudget() == null ? Long.MAX_VALUE
                : start + Math.min(options.timeBudget().toNanos(), Long.MAX_VALUE / 4);
    }

    Result run() {
        int workers = Math.min(options.workers(), lanes.length);
        try {
            if (workers == 1) {
                worker();
            } else {
                runPool(workers);
            }
        } finally {
            options.progress().finished();
        }
        synchronized (this) {
            if (fatal != null) throw fatal;
            if (error != null) throw error;
            return result();
        }
    }

    private void runPool(int workers) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "hmm4j-explore-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        ExecutorService pool = Executors.newFixedThreadPool(workers, factory);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                futures.add(pool.submit(this::worker));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail(new ExplorationException("interrupted"));
                } catch (java.util.concurrent.ExecutionException e) {
                    fail(e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A worker: its loop ({@link #work}) on one run thread, its runs inline and watched
     * ({@link RunWorker}); a run the watchdog gives up is finished here like any other.
     */
    private void worker() {
        InFlight slot = new InFlight();
        RunWorker.run(() -> work(slot), (kernel, result) -> abandoned(slot, kernel, result),
                () -> fail(new ExplorationException("interrupted")));
    }

    /** A worker's run in progress: its lane and run, for a run its watchdog gives up. Guarded by the engine. */
    private static final class InFlight {
        Lane lane;
        PlannedRun run;
    }

    /** The watchdog gave up {@code slot}'s run: its result recorded and its lane given back. */
    private void abandoned(InFlight slot, Kernel kernel, RunResult result) {
        Runs.InFlight f = Runs.inFlight(kernel);
        synchronized (this) {
            Runs.Outcome outcome = new Runs.Outcome(slot.run, result, f != null && f.context().usedShared());
            finish(slot, outcome);
        }
    }

    /** Guarded by this: {@code slot}'s run ended with {@code outcome}. */
    private void finish(InFlight slot, Runs.Outcome outcome) {
        slot.lane.source.finished();
        slot.lane.busy = false;
        slot.lane = null;
        slot.run = null;
        record(outcome);
        notifyAll();
    }

    /** A worker's loop: take a lane, run its next run, give the lane back, until nothing is left. */
    private void work(InFlight slot) {
        while (true) {
            Lane lane;
            PlannedRun run;
            synchronized (this) {
                lane = null;
                while (true) {
                    if (error != null || fatal != null) {
                        return;
                    }
                    if (System.nanoTime() - deadline > 0) {
                        timeUp = true;
                        return;
                    }
                    lane = freeLane();
                    if (lane != null) {
                        break;
                    }
                    if (!anyBusy()) {
                        return;
                    }
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        error = new ExplorationException("interrupted");
                        notifyAll();
                        return;
                    }
                }
                lane.busy = true;
                run = lane.source.next();
                slot.lane = lane;
                slot.run = run;
            }
            Runs.Outcome outcome;
            try {
                outcome = Runs.execute(target, run, run.strategy(), lane.store, options.maxSteps(),
                        options.stopAtFirstFailure() ? Runs.Recording.BARE : Runs.Recording.SITES, exploration);
            } catch (RunAbandoned e) {
                throw e; // the run was given up and finished by the watchdog: nothing here is this thread's now
            } catch (RuntimeException | Error e) {
                fail(e);
                return;
            }
            synchronized (this) {
                finish(slot, outcome);
            }
        }
    }

    private synchronized void fail(Throwable e) {
        if (e instanceof Error err) {
            if (fatal == null) fatal = err;
        } else if (error == null) {
            error = e instanceof RuntimeException r ? r : new ExplorationException(String.valueOf(e), e);
        }
        notifyAll();
    }

    /** The free lane with the lowest next run index below the bound, or null. Guarded by this. */
    private Lane freeLane() {
        Lane best = null;
        int bestIndex = Integer.MAX_VALUE;
        for (Lane l : lanes) {
            if (l.busy) {
                continue;
            }
            int next = l.source.peek();
            if (next >= 0 && next < bestIndex && (!options.stopAtFirstFailure() || next < bound)) {
                best = l;
                bestIndex = next;
            }
        }
        return best;
    }

    private boolean anyBusy() {
        for (Lane l : lanes) {
            if (l.busy) {
                return true;
            }
        }
        return false;
    }

    /** Guarded by this. */
    private void record(Runs.Outcome o) {
        int index = o.run().runIndex();
        if (completedCount == completed.length) {
            completed = java.util.Arrays.copyOf(completed, completedCount * 2);
            completedMarks = java.util.Arrays.copyOf(completedMarks, completedCount * 2);
        }
        List<Mark> marks = o.result().marks();
        Integer set = markSetIndex.get(marks);
        if (set == null) {
            set = markSets.size();
            markSets.add(marks);
            markSetIndex.put(marks, set);
        }
        completedMarks[completedCount] = set;
        completed[completedCount++] = index;
        if (!o.result().clean()) {
            failures.add(o);
            failureNanos.put(index, System.nanoTime() - start);
            if (options.stopAtFirstFailure()) {
                bound = Math.min(bound, index);
            }
        }
        options.progress().runDone(index, o.run().seed(), !o.result().clean());
        long planned = options.runs() == ExploreOptions.UNBOUNDED_RUNS ? -1 : options.plannedRuns();
        options.progress().runFinished(countDone(), planned, countFailures(), System.nanoTime() - start);
    }

    /** Finished runs at or below the bound (all of them when there is none). */
    private long countDone() {
        long n = 0;
        for (int i = 0; i < completedCount; i++) {
            if (completed[i] <= bound) {
                n++;
            }
        }
        return n;
    }

    /** The marks of the finished runs at or below the bound. Guarded by this. */
    private MarkCoverage coverage() {
        Map<Mark, long[]> byMark = new HashMap<>();
        for (int i = 0; i < completedCount; i++) {
            if (completed[i] > bound) {
                continue;
            }
            for (Mark m : markSets.get(completedMarks[i])) {
                long[] c = byMark.computeIfAbsent(m, x -> new long[] {0, Long.MAX_VALUE});
                c[0]++;
                c[1] = Math.min(c[1], completed[i]);
            }
        }
        List<MarkCoverage.Reached> reached = new ArrayList<>();
        byMark.forEach((m, c) -> reached.add(new MarkCoverage.Reached(m, c[0], (int) c[1])));
        return new MarkCoverage(reached);
    }

    private long countFailures() {
        return failures.stream().filter(f -> f.run().runIndex() <= bound).count();
    }

    /** Guarded by this. */
    private Result result() {
        List<Runs.Outcome> kept = failures.stream().filter(f -> f.run().runIndex() <= bound)
                .sorted(Comparator.comparingInt(f -> f.run().runIndex())).toList();
        long nanosToFirst = kept.isEmpty() ? -1 : failureNanos.get(kept.get(0).run().runIndex());
        Optional<Integer> exhausted = lanes.length == 1 ? lanes[0].source.exhaustedAtBound() : Optional.empty();
        ExplorationResult.StopReason reason;
        if (!kept.isEmpty() && options.stopAtFirstFailure()) {
            reason = ExplorationResult.StopReason.FAILURE;
        } else if (timeUp) {
            reason = ExplorationResult.StopReason.TIME;
        } else if (exhausted.isPresent()) {
            reason = ExplorationResult.StopReason.EXHAUSTED;
        } else {
            reason = ExplorationResult.StopReason.RUNS;
        }
        boolean pruned = lanes.length == 1 && lanes[0].source.pruned();
        return new Result(countDone(), kept, nanosToFirst, System.nanoTime() - start, reason, exhausted, pruned,
                coverage());
    }
}
