package hmm4j.explore;

import hmm4j.explore.minimise.Minimisation;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A failing run of an exploration.
 *
 * @param runIndex         the run's index
 * @param seed             its seed
 * @param strategy         the description of the strategy that found it, with parameters
 * @param strategySpec     that strategy as written on the command line (the portfolio's member)
 * @param lane             its lane
 * @param runsBeforeInLane runs of its lane before it
 * @param usedShared       true when its set-up used objects shared with earlier runs
 * @param run              the run: for the first failure, replayed with its full trace and
 *                         code sites; for later ones (when not stopping at the first) as found
 * @param minimisation     the minimised schedule, when minimised
 * @param file             the failure file written, if any
 */
@HiddenFromSites
public record FoundFailure(int runIndex, long seed, String strategy, String strategySpec, int lane,
                           int runsBeforeInLane, boolean usedShared, RunResult run,
                           Optional<Minimisation> minimisation, Optional<Path> file) {

    /** The failure of the run, or empty when the run diverged from its own schedule. */
    public Optional<Failure> failure() {
        return run.firstFailure();
    }

    /**
     * The minimised schedule replayed with its trace on {@code target}, when the minimisation
     * made it smaller than the run found, it is in the failure file, and it reproduces the
     * failure; else empty (the run found is then the one to show).
     */
    public Optional<RunResult> minimalRun(ExploreTarget target) {
        if (minimisation.isEmpty() || file.isEmpty()) {
            return Optional.empty();
        }
        Minimisation m = minimisation.get();
        if (m.preemptions() == m.originalPreemptions() && m.contextSwitches() == m.originalContextSwitches()) {
            return Optional.empty();
        }
        hmm4j.explore.replay.FailureFile ff = hmm4j.explore.replay.FailureFiles.read(file.get());
        if (ff.minimal() == null) {
            return Optional.empty();
        }
        ReplayResult r = Explorer.replay(ff, target, true);
        return r.reproduced() ? Optional.of(r.run()) : Optional.empty();
    }

    /** The one-line verdict of the run. */
    public String headline() {
        return run.firstFailure().map(Failure::headline)
                .orElseGet(() -> run.divergence().map(d -> "diverged: " + d).orElse("no failure"));
    }
}
