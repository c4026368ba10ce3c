package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What an exploration found.
 *
 * @param target              the target's name
 * @param options             the options it ran with
 * @param runsDone            runs finished (when stopping at a failure: the shard's runs up to
 *                            and including the failing one, whatever the worker count)
 * @param failures            the failing runs, by run index (only the first when stopping at it)
 * @param nanosToFirstFailure wall time from the start until the first failure was found, or -1
 * @param runNanos            wall time until the last run finished (calibration and runs)
 * @param totalNanos          wall time of the whole exploration, including the report replay
 *                            and the minimisation
 * @param stoppedBy           why it stopped
 * @param exhaustedAtBound    for DFS: the preemption bound at which the space was exhausted
 * @param boundPruned         for DFS: true when the bound cut off schedules
 * @param runLength           the run length estimated for PCT (0 when not needed)
 * @param marks               the coverage marks the counted runs reached ({@link MarkCoverage})
 */
@HiddenFromSites
public record ExplorationResult(String target, ExploreOptions options, long runsDone, List<FoundFailure> failures,
                                long nanosToFirstFailure, long runNanos, long totalNanos, StopReason stoppedBy,
                                Optional<Integer> exhaustedAtBound, boolean boundPruned, long runLength,
                                MarkCoverage marks) {

    /** Why an exploration stopped. */
    public enum StopReason {
        /** A run failed (and the exploration stops at the first failure). */
        FAILURE,
        /** Every run of the budget ran. */
        RUNS,
        /** The wall-clock budget ran out. */
        TIME,
        /** DFS ran every schedule within its bound. */
        EXHAUSTED
    }

    public ExplorationResult {
        failures = List.copyOf(failures);
        java.util.Objects.requireNonNull(marks, "marks");
    }

    /** A result that reached no coverage mark. */
    public ExplorationResult(String target, ExploreOptions options, long runsDone, List<FoundFailure> failures,
                             long nanosToFirstFailure, long runNanos, long totalNanos, StopReason stoppedBy,
                             Optional<Integer> exhaustedAtBound, boolean boundPruned, long runLength) {
        this(target, options, runsDone, failures, nanosToFirstFailure, runNanos, totalNanos, stoppedBy,
                exhaustedAtBound, boundPruned, runLength, MarkCoverage.NONE);
    }

    /** The first failing run, if any. */
    public Optional<FoundFailure> failure() {
        return failures.isEmpty() ? Optional.empty() : Optional.of(failures.get(0));
    }

    /** True when no run failed. */
    public boolean clean() {
        return failures.isEmpty();
    }

    /** Runs per second of wall time, over the runs (not the replay and minimisation after them). */
    public double runsPerSecond() {
        return runNanos <= 0 ? 0 : runsDone / (runNanos / 1e9);
    }

    /**
     * The space line for DFS, e.g. {@code space exhausted at bound 2 (412 schedules)}, or
     * empty for other strategies and unfinished searches.
     */
    public Optional<String> spaceLine() {
        return exhaustedAtBound.map(k -> "space exhausted at bound " + k + " (" + runsDone + " schedule"
                + (runsDone == 1 ? "" : "s") + (boundPruned ? "" : ", none cut by the bound") + ")");
    }

    /**
     * One line: {@code FAIL <headline> (run R, seed S)} or {@code PASS no failure in N runs},
     * with why a passing exploration stopped early (time budget, exhausted space).
     */
    public String verdictLine() {
        return failure().map(f -> "FAIL " + f.headline() + " (run " + f.runIndex() + ", seed " + f.seed() + ")")
                .orElseGet(() -> "PASS no failure in " + runsDone + " run" + (runsDone == 1 ? "" : "s")
                        + (stoppedBy == StopReason.TIME ? "; time budget spent" : "")
                        + spaceLine().map(s -> "; " + s).orElse(""));
    }

    /** The runs and their rate, e.g. {@code 1000 runs in 412.0 ms (2427 runs/s)}. */
    public String rateLine() {
        return String.format(Locale.ROOT, "%d run%s in %.1f ms (%.0f runs/s)", runsDone, runsDone == 1 ? "" : "s",
                runNanos / 1e6, runsPerSecond());
    }
}
