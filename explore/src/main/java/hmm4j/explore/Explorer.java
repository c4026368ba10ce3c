package hmm4j.explore;

import hmm4j.explore.RunPlan.PlannedRun;
import hmm4j.explore.minimise.Minimisation;
import hmm4j.explore.minimise.Minimiser;
import hmm4j.explore.replay.FailureFile;
import hmm4j.explore.replay.FailureFiles;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.Decision;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.JvmExits;
import hmm4j.sim.RandomWalkStrategy;
import hmm4j.sim.ReplayStrategy;
import hmm4j.sim.RunResult;
import hmm4j.sim.Strategy;
import hmm4j.sim.failure.Failure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one-call API of the explorer: {@link #explore} runs a target under a strategy within
 * a budget and returns what it found; {@link #replay} re-runs a failure file and checks it
 * step by step.
 *
 * <p>Overview of {@link #explore}:
 * <ol>
 *   <li>For PCT (alone or in the portfolio), estimate the run length once: the longest of
 *       {@value #CALIBRATION_RUNS} random-walk runs from the first seed.</li>
 *   <li>Run the {@link RunPlan} on the {@link Engine}'s workers, untraced and without code
 *       frames in their sites, for speed (a site is then task and step). Every run
 *       ends with the kernel's quiescence checks (the whole-model validator and the
 *       checkers' end-of-run verdict, registered by the target's set-up).</li>
 *   <li>For the first failing run: replay its schedule with the full trace and code sites
 *       (rebuilding its lane's shared objects first when it used them), minimise its
 *       preemptions, and write its failure file. When not stopping at the first failure,
 *       the runs keep their code frames, since the later failures are reported as found.</li>
 * </ol>
 * A run that exceeds its step bound ends as a {@code StepBoundExceeded} failure (a livelock
 * report); a set-up that throws ends the exploration with an {@link ExplorationException}.
 */
@HiddenFromSites
public final class Explorer {
    /** Random-walk runs that estimate the run length for PCT. */
    static final int CALIBRATION_RUNS = 3;
    private static final String CALIBRATION_OF = " (a calibration run of ";

    /**
     * True when a failure of run {@code runIndex}, found by {@code strategyText}, in an
     * exploration under {@code explorationStrategy}, is one of its calibration runs (reported
     * alike by every shard of a sharded exploration, since each calibrates the same way).
     */
    public static boolean isCalibrationFailure(int runIndex, String strategyText, String explorationStrategy) {
        return runIndex >= 0 && runIndex < CALIBRATION_RUNS && strategyText != null
                && strategyText.endsWith(CALIBRATION_OF + explorationStrategy + ")");
    }

    /** Candidate runs the minimiser may try. */
    static final int MAX_MINIMISATION_RUNS = 200;

    private Explorer() {
    }

    /**
     * Explores {@code target} with {@code options}.
     *
     * @throws ExplorationException when the target's set-up throws or a failure file cannot be written
     */
    public static ExplorationResult explore(ExploreTarget target, ExploreOptions options) {
        long start = System.nanoTime();
        Calibration calibration = calibrate(target, options);
        // Sharded too: every shard calibrates alike and meets the same runaway, reported from
        // there by each (a shard result may name a calibration run, see isCalibrationFailure).
        if (calibration.runaway() != null) {
            return fromCalibration(target, options, calibration.runaway(), start);
        }
        long runLength = calibration.runLength();
        RunPlan plan = new RunPlan(options.strategy(), options.firstSeed(), options.runs(), options.shard(),
                options.effectiveLanes(), runLength);
        Engine.Result r = new Engine(target, options, plan, start).run();
        List<FoundFailure> found = new ArrayList<>();
        for (Runs.Outcome o : r.failures()) {
            found.add(found.isEmpty() ? investigate(target, options, plan, o) : plain(options, o));
        }
        return new ExplorationResult(target.name(), options, r.runsDone(), found, r.nanosToFirstFailure(),
                r.totalNanos(), System.nanoTime() - start, r.stoppedBy(), r.exhaustedAtBound(), r.pruned(), runLength,
                r.marks());
    }

    /**
     * The calibration: the run length for PCT (0 when no strategy needs it), and the outcome
     * of a calibration run that hit a real-time bound (a runaway, a wait outside the model),
     * or null.
     */
    record Calibration(long runLength, Runs.Outcome runaway) {
    }

    /**
     * The run length for PCT: the longest of a few random-walk runs (0 when no strategy needs
     * it). The calibration runs are the runs of an exploration of their own:
     * {@link #calibrationOptions} ({@code random} from the same first seed, one lane each, so
     * each starts with no shared objects); so a calibration run that hits a real-time bound
     * can be reported, and replayed, as what it is, without waiting for the bound again.
     */
    static Calibration calibrate(ExploreTarget target, ExploreOptions options) {
        if (!options.strategy().needsRunLength()) {
            return new Calibration(0, null);
        }
        long longest = 1;
        ExploreOptions as = calibrationOptions(options);
        Runs.Exploration exploration = new Runs.Exploration(target, as, calibrationPlan(as));
        for (int i = 0; i < CALIBRATION_RUNS; i++) {
            long seed = options.firstSeed() + i;
            PlannedRun p = new PlannedRun(i, seed, new RandomWalkStrategy(seed), i, 0);
            Runs.Outcome o = Runs.execute(target, p, p.strategy(), new SharedStore(), options.maxSteps(),
                    Runs.Recording.BARE, exploration);
            RunResult r = o.result();
            longest = Math.max(longest, r.steps());
            if (r.firstFailure().filter(Explorer::ofRealTime).isPresent()) {
                return new Calibration(longest, o); // a runaway: reported from here, never waited for twice
            }
        }
        return new Calibration(longest, null);
    }

    /** The exploration that the calibration runs of {@code options} are: random, one lane per run. */
    static ExploreOptions calibrationOptions(ExploreOptions options) {
        return options.withStrategy(StrategySpec.RANDOM).withRuns(CALIBRATION_RUNS).withLanes(CALIBRATION_RUNS)
                .withShard(Shard.ALL).withTimeBudget(null);
    }

    private static RunPlan calibrationPlan(ExploreOptions as) {
        return new RunPlan(as.strategy(), as.firstSeed(), as.runs(), as.shard(), as.effectiveLanes(), 0);
    }

    /**
     * The failure of the exploration's run in progress whose task is exiting the JVM
     * ({@code System.exit}, which cannot be intercepted on JDK 21+; see {@link JvmExits}), for
     * a shutdown hook: the run as it stands (its decisions so far, the task that called exit
     * and its frames), with its failure file written to the exploration's directory when it
     * has one (empty {@link FoundFailure#file} when writing failed). Empty when no run of an
     * exploration is exiting.
     */
    public static Optional<FoundFailure> exitInProgress() {
        Optional<JvmExits.Exit> exit = JvmExits.find();
        if (exit.isEmpty()) {
            return Optional.empty();
        }
        Runs.InFlight in = Runs.inFlight(exit.get().kernel());
        if (in == null) {
            return Optional.empty();
        }
        PlannedRun p = in.run();
        ExploreOptions o = in.exploration().options();
        RunResult run = exit.get().run();
        FoundFailure f = new FoundFailure(p.runIndex(), p.seed(), run.strategy(),
                o.strategy().member(p.runIndex()).text(), p.lane(), p.runsBeforeInLane(), in.context().usedShared(),
                run, Optional.empty(), Optional.empty());
        if (o.outDir() == null) {
            return Optional.of(f);
        }
        try {
            return Optional.of(written(in.exploration().target(), o, in.exploration().plan(), p, f));
        } catch (RuntimeException e) {
            return Optional.of(f); // the file could not be written: the report still names the run
        }
    }

    /**
     * The result of an exploration whose calibration run hit a real-time bound: that run is the
     * failure found (a later run of the exploration would wait for the bound again), described
     * and written as the run of the calibration's own exploration ({@link #calibrationOptions}),
     * which is how it replays. None of the exploration's own runs ran.
     */
    private static ExplorationResult fromCalibration(ExploreTarget target, ExploreOptions options, Runs.Outcome o,
                                                     long start) {
        ExploreOptions as = calibrationOptions(options);
        RunPlan plan = calibrationPlan(as);
        PlannedRun p = o.run();
        FoundFailure found = new FoundFailure(p.runIndex(), p.seed(),
                o.result().strategy() + CALIBRATION_OF + options.strategy().text() + ")",
                as.strategy().member(p.runIndex()).text(), p.lane(), p.runsBeforeInLane(), o.usedShared(),
                tracedUpToTheLastDecision(target, p, o.result(), options.maxSteps()), Optional.empty(),
                Optional.empty());
        if (as.outDir() != null) {
            found = written(target, as, plan, p, found);
        }
        long elapsed = System.nanoTime() - start;
        options.progress().runDone(p.runIndex(), p.seed(), true);
        options.progress().finished();
        return new ExplorationResult(target.name(), options, 0, List.of(found), elapsed, elapsed, elapsed,
                ExplorationResult.StopReason.FAILURE, Optional.empty(), false, 0, MarkCoverage.NONE);
    }

    private static FoundFailure plain(ExploreOptions options, Runs.Outcome o) {
        PlannedRun p = o.run();
        return new FoundFailure(p.runIndex(), p.seed(), o.result().strategy(),
                options.strategy().member(p.runIndex()).text(), p.lane(), p.runsBeforeInLane(), o.usedShared(),
                o.result(), Optional.empty(), Optional.empty());
    }

    /** Replays the first failure with its trace, minimises it and writes its file. */
    private static FoundFailure investigate(ExploreTarget target, ExploreOptions options, RunPlan plan,
                                            Runs.Outcome o) {
        PlannedRun p = o.run();
        RunResult found = o.result();
        Optional<Failure> failure = found.firstFailure();
        if (failure.isEmpty()) {
            return plain(options, o); // a divergence of the search itself: nothing to replay
        }
        boolean history = o.usedShared() && p.runsBeforeInLane() > 0;
        if (ofRealTime(failure.get())) {
            // A runaway or a wait outside the model: a whole replay (and each minimisation run)
            // would take the bound's time again, so the run found is the report, traced up to
            // the runaway point (its frames are the task's where it was stuck).
            FoundFailure f = plain(options, o);
            if (!history) {
                f = withRun(f, tracedUpToTheLastDecision(target, p, found, options.maxSteps()));
            }
            return options.outDir() == null ? f : written(target, options, plan, p, f);
        }
        Function<Strategy, RunResult> rerun = s -> Runs.execute(target, p, s,
                history ? Runs.rebuild(target, plan, p.lane(), p.runIndex(), options.maxSteps(), Runs.Recording.BARE)
                        : new SharedStore(),
                options.maxSteps(), Runs.Recording.BARE).result();
        RunResult traced = Runs.execute(target, p, new ReplayStrategy(found.decisions(), found.strategy()),
                history ? Runs.rebuild(target, plan, p.lane(), p.runIndex(), options.maxSteps()) : new SharedStore(),
                options.maxSteps(), Runs.Recording.TRACED).result();
        RunResult report = Minimiser.sameFailure(traced, failure.get()) ? traced : found;
        Optional<Minimisation> minimisation = Optional.empty();
        if (options.minimise()) {
            int budget = history ? Math.max(1, Math.min(MAX_MINIMISATION_RUNS, 4000 / (p.runsBeforeInLane() + 1)))
                    : MAX_MINIMISATION_RUNS;
            minimisation = Optional.of(new Minimiser(rerun, budget).minimise(found.decisions(), failure.get()));
        }
        FoundFailure f = new FoundFailure(p.runIndex(), p.seed(), found.strategy(),
                options.strategy().member(p.runIndex()).text(), p.lane(), p.runsBeforeInLane(), o.usedShared(),
                report, minimisation, Optional.empty());
        if (options.outDir() == null) {
            return f;
        }
        return written(target, options, plan, p, f);
    }

    /**
     * {@code found}, a run stopped at a real-time bound, with the trace and code sites of its
     * schedule up to the runaway point: its decisions but the last replayed with the full
     * trace, the replay stopping where the last decision would resume the task that then
     * ran away, so no task waits for the bound again. {@code found} itself when the replay does
     * not follow the schedule up to there.
     */
    static RunResult tracedUpToTheLastDecision(ExploreTarget target, PlannedRun p, RunResult found, long maxSteps) {
        List<Decision> decisions = found.decisions();
        if (decisions.isEmpty()) {
            return found;
        }
        List<Decision> before = decisions.subList(0, decisions.size() - 1);
        RunResult traced = Runs.execute(target, p, new ReplayStrategy(before, found.strategy()), new SharedStore(),
                maxSteps, Runs.Recording.TRACED).result();
        // It must stop where its schedule ends (a divergence there), not before nor on a failure.
        if (traced.steps() < before.size() || !traced.failures().isEmpty()
                || !traced.divergence().filter(d -> d.startsWith("diverged at step " + decisions.size() + ":")).isPresent()) {
            return found;
        }
        return new RunResult(found.seed(), found.strategy(), found.failures(), found.steps(), traced.virtualNanos(),
                decisions, traced.trace(), Optional.empty(), found.taskNames(), found.marks(), found.validators());
    }

    private static FoundFailure withRun(FoundFailure f, RunResult run) {
        return new FoundFailure(f.runIndex(), f.seed(), f.strategy(), f.strategySpec(), f.lane(), f.runsBeforeInLane(),
                f.usedShared(), run, f.minimisation(), f.file());
    }

    /** {@code f} with its failure file, written to the exploration's directory. */
    private static FoundFailure written(ExploreTarget target, ExploreOptions options, RunPlan plan, PlannedRun p,
                                        FoundFailure f) {
        Path file = options.outDir().resolve(fileName(target.name(), p));
        try {
            FailureFiles.write(FailureFileBuilder.build(target.name(), options, plan.runLength(), f), file);
        } catch (IOException e) {
            throw new ExplorationException("cannot write the failure file " + file + ": " + e.getMessage(), e);
        }
        return new FoundFailure(f.runIndex(), f.seed(), f.strategy(), f.strategySpec(), f.lane(), f.runsBeforeInLane(),
                f.usedShared(), f.run(), f.minimisation(), Optional.of(file));
    }

    private static boolean ofRealTime(Failure f) {
        return f instanceof Failure.StepBoundExceeded b && b.ofRealTime();
    }

    /** {@code <target>-run<index>-seed<seed>.json}, the target's name made safe for a file name. */
    static String fileName(String target, PlannedRun p) {
        return target.replaceAll("[^A-Za-z0-9._-]+", "_") + "-run" + p.runIndex() + "-seed" + p.seed() + ".json";
    }

    /**
     * Replays the failure file at {@code file} on {@code target} and verifies it at every step.
     *
     * @throws FailureFiles.BadFailureFileException when the file is missing or not a failure file
     */
    public static ReplayResult replay(Path file, ExploreTarget target) {
        return replay(FailureFiles.read(file), target, false);
    }

    /**
     * Replays {@code file} on {@code target}: checks that the run's place in its exploration
     * is possible, rebuilds the shared objects of the run's lane when the run used them,
     * re-executes the recorded decisions (or the minimised ones when {@code minimal}) with a
     * verifying {@link ReplayStrategy} (which also checks that each recorded choice is
     * enabled), and checks that the run neither diverges nor ends early, that the file's seed
     * is the one its exploration gave the run, and that the verdict's kind, rule and headline
     * are the recorded ones.
     *
     * @throws IllegalArgumentException            when {@code minimal} and the file has no minimised schedule
     * @throws FailureFiles.BadFailureFileException when the run's lane or place cannot be the exploration's
     */
    public static ReplayResult replay(FailureFile file, ExploreTarget target, boolean minimal) {
        if (minimal && file.minimal() == null) {
            throw new IllegalArgumentException("the failure file has no minimised schedule");
        }
        List<Decision> decisions = minimal ? file.minimal().decisions().stream().map(FailureFile.Step::toDecision).toList()
                : file.schedule();
        FailureFile.Exploration e = file.exploration();
        long maxSteps = file.bounds().maxSteps();
        SharedStore store = new SharedStore();
        int lane = 0;
        int before = 0;
        if (e != null) {
            lane = e.lane();
            before = e.runsBeforeInLane();
            RunPlan plan;
            try {
                plan = new RunPlan(StrategySpec.parse(e.strategy()), e.firstSeed(), e.runs(), Shard.parse(e.shard()),
                        e.lanes(), e.runLength());
            } catch (IllegalArgumentException x) {
                throw new FailureFiles.BadFailureFileException("exploration: " + x.getMessage());
            }
            String place = plan.placeProblem(file.runIndex(), lane, before);
            if (place != null) {
                throw new FailureFiles.BadFailureFileException("exploration: " + place);
            }
            if (e.sharedState() && e.runsBeforeInLane() > 0) {
                store = Runs.rebuild(target, plan, e.lane(), file.runIndex(), maxSteps);
            }
        }
        String description = file.strategy() == null ? null : file.strategy().description();
        PlannedRun p = new PlannedRun(file.runIndex(), file.seed(), null, lane, before);
        RunResult r = Runs.execute(target, p, new ReplayStrategy(decisions, description), store, maxSteps,
                Runs.Recording.TRACED).result();
        Optional<String> divergence = r.divergence();
        if (divergence.isEmpty() && r.steps() < decisions.size()) {
            divergence = Optional.of("diverged at step " + (r.steps() + 1) + ": the run ended after " + r.steps()
                    + " steps but the recorded schedule has " + decisions.size() + " (recorded next: task "
                    + decisions.get((int) r.steps()).chosen() + " at " + decisions.get((int) r.steps()).op() + ")");
        }
        String recorded = file.verdict() == null ? "?" : file.verdict().headline();
        String actual = r.firstFailure().map(Failure::headline).orElse("no failure");
        Optional<String> difference = divergence.isPresent() ? Optional.empty()
                : seedDifference(file).or(() -> verdictDifference(file.verdict(), r.firstFailure()));
        boolean reproduced = divergence.isEmpty() && difference.isEmpty();
        return new ReplayResult(file, r, divergence, reproduced, recorded, actual, difference);
    }

    /**
     * {@code DIFFERENT SEED: ...} when the file's seed is not the one its exploration gave the
     * run ({@code firstSeed + runIndex}), or not the one in the strategy's parameters.
     */
    private static Optional<String> seedDifference(FailureFile file) {
        FailureFile.Exploration e = file.exploration();
        if (e != null && e.firstSeed() + file.runIndex() != file.seed()) {
            return Optional.of("DIFFERENT SEED: the file's seed is " + file.seed() + ", but run " + file.runIndex()
                    + " of its exploration (first seed " + e.firstSeed() + ") has seed "
                    + (e.firstSeed() + file.runIndex()));
        }
        Object strategySeed = file.strategy() == null ? null : file.strategy().parameters().get("seed");
        if (strategySeed instanceof Number n && n.longValue() != file.seed()) {
            return Optional.of("DIFFERENT SEED: the file's seed is " + file.seed() + ", but strategy.parameters.seed is "
                    + n.longValue());
        }
        return Optional.empty();
    }

    /** {@code DIFFERENT VERDICT: ...} naming the first of kind, rule and headline that differs. */
    private static Optional<String> verdictDifference(FailureFile.Verdict recorded, Optional<Failure> actual) {
        String kind = actual.map(f -> f.kind().name()).orElse("none");
        String headline = actual.map(Failure::headline).orElse("no failure");
        if (recorded == null) {
            return Optional.of("DIFFERENT VERDICT: the file records none, replay gave " + kind + " '" + headline + "'");
        }
        if (!kind.equals(recorded.kind())) {
            return Optional.of("DIFFERENT VERDICT: kind recorded " + recorded.kind() + ", replay gave " + kind
                    + " ('" + headline + "')");
        }
        String rule = actual.map(f -> f.rule().id()).orElse("none");
        if (recorded.rule() != null && !rule.equals(recorded.rule())) {
            return Optional.of("DIFFERENT VERDICT: rule recorded " + recorded.rule() + ", replay gave " + rule
                    + " ('" + headline + "')");
        }
        if (!headline.equals(recorded.headline())) {
            return Optional.of("DIFFERENT VERDICT: recorded '" + recorded.headline() + "', replay gave '" + headline
                    + "'");
        }
        return Optional.empty();
    }
}
