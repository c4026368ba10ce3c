package hmm4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.ExploreTarget;
import hmm4j.explore.Explorer;
import hmm4j.explore.FoundFailure;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;

/**
 * Assertions on a whole exploration: a known-bad design is found, with the expected
 * failure, within the budget; a known-good one explores its whole budget with no report.
 */
public final class ExploreAssertions {
    private ExploreAssertions() {
    }

    /** Explores {@code target} and asserts a failure of {@code kind} is found; returns it. */
    public static FoundFailure assertFinds(ExploreTarget target, ExploreOptions options, FailureKind kind) {
        ExplorationResult r = Explorer.explore(target, options);
        assertTrue(r.failure().isPresent(), () -> target.name() + ": expected a " + kind.label() + " within "
                + options.runs() + " runs, explored " + r.runsDone() + " clean");
        FoundFailure found = r.failure().get();
        Failure f = found.failure().orElse(null);
        assertTrue(f != null, () -> target.name() + ": the failing run has no failure: " + found.headline());
        assertEquals(kind, f.kind(), () -> target.name() + ": found " + found.headline());
        return found;
    }

    /**
     * Explores {@code target} and asserts a failure is found for {@code rule} (not merely of
     * its kind: a design caught by another rule passed for the wrong reason); returns it.
     */
    public static FoundFailure assertFinds(ExploreTarget target, ExploreOptions options, Rule rule) {
        FoundFailure found = assertFinds(target, options, rule.kind());
        assertEquals(rule.id(), found.failure().orElseThrow().rule().id(),
                () -> target.name() + ": found for another rule: " + found.headline());
        return found;
    }

    /** Explores {@code target} and asserts that every run of the budget was clean; returns the result. */
    public static ExplorationResult assertExploresClean(ExploreTarget target, ExploreOptions options) {
        ExplorationResult r = Explorer.explore(target, options);
        assertTrue(r.clean(), () -> target.name() + ": expected clean, found "
                + r.failure().map(FoundFailure::headline).orElse("?"));
        return r;
    }
}
