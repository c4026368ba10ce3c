package hmm4j.explore.replay;

import hmm4j.explore.Shard;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The checks of a parsed failure file's values, before anything is run: every value replay
 * uses to size or bound work (the step bound, the exploration's lanes, runs and positions)
 * must be possible, the verdict kind must be one hmm4j reports, and the decisions must be
 * numbered from 1. A hand-edited value that breaks one is named with its JSON path, so that
 * replay never loops or runs on a value no exploration could have written. Whether the run's
 * lane and place in its lane agree with the exploration is checked by the replay itself,
 * which knows the run plan.
 */
@HiddenFromSites
final class FailureFileChecks {
    /** The verdict kind of a run that diverged from its schedule. */
    static final String DIVERGED = "DIVERGED";

    private FailureFileChecks() {
    }

    /** What is wrong with {@code f}, in one line, or null when nothing is. */
    static String problem(FailureFile f) {
        if (f.version() == null || f.version().isBlank()) {
            return "incomplete failure file (needs version)";
        }
        if (f.bounds().maxSteps() <= 0) {
            return "bounds.maxSteps must be positive: " + f.bounds().maxSteps();
        }
        if (f.runIndex() < 0) {
            return "runIndex must not be negative: " + f.runIndex();
        }
        String verdict = verdict(f.verdict());
        if (verdict != null) {
            return verdict;
        }
        for (int i = 0; i < f.decisions().size(); i++) {
            FailureFile.Step s = f.decisions().get(i);
            if (s.step() != i + 1) {
                return "decisions[" + i + "].step is " + s.step() + ", expected " + (i + 1)
                        + " (decisions are numbered from 1, one per step)";
            }
        }
        return f.exploration() == null ? null : exploration(f.exploration(), f.runIndex());
    }

    private static String verdict(FailureFile.Verdict v) {
        if (v == null || v.kind() == null || v.headline() == null) {
            return "incomplete failure file (needs verdict with kind and headline)";
        }
        boolean known = DIVERGED.equals(v.kind())
                || Arrays.stream(FailureKind.values()).anyMatch(k -> k.name().equals(v.kind()));
        if (!known) {
            return "verdict.kind '" + v.kind() + "' is not a verdict hmm4j reports (one of "
                    + Arrays.stream(FailureKind.values()).map(Enum::name).collect(Collectors.joining(", "))
                    + ", " + DIVERGED + ")";
        }
        if (v.rule() != null && !Rule.ID.matcher(v.rule()).matches()) {
            return "verdict.rule '" + v.rule() + "' is not a rule id (area.name, e.g. mem.use-after-free)";
        }
        return null;
    }

    private static String exploration(FailureFile.Exploration e, int runIndex) {
        StrategySpec strategy;
        try {
            strategy = StrategySpec.parse(e.strategy());
        } catch (IllegalArgumentException x) {
            return "exploration.strategy: " + x.getMessage();
        }
        try {
            Shard.parse(e.shard());
        } catch (IllegalArgumentException x) {
            return "exploration.shard: " + x.getMessage();
        }
        if (e.lanes() < 1) {
            return "exploration.lanes must be at least 1: " + e.lanes();
        }
        if (strategy.sequential() && e.lanes() != 1) {
            return "exploration.lanes must be 1 for " + strategy.text() + " (a search runs in one lane): " + e.lanes();
        }
        if (e.lane() < 0 || e.lane() >= e.lanes()) {
            return "exploration.lane must be in [0, " + e.lanes() + "): " + e.lane();
        }
        if (e.runs() < 1) {
            return "exploration.runs must be positive: " + e.runs();
        }
        if (runIndex >= e.runs()) {
            return "runIndex " + runIndex + " is outside the exploration's " + e.runs() + " runs";
        }
        if (e.runsBeforeInLane() < 0) {
            return "exploration.runsBeforeInLane must not be negative: " + e.runsBeforeInLane();
        }
        if (e.runLength() < 0) {
            return "exploration.runLength must not be negative: " + e.runLength();
        }
        return null;
    }
}
