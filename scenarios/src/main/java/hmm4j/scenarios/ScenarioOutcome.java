package hmm4j.scenarios;

import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.Rule;
import java.util.Optional;

/**
 * The result of exploring one scenario.
 *
 * @param scenario           the scenario
 * @param runs               runs executed (a known-bad design stops at its first failure)
 * @param firstFailure       the first failing run, if any
 * @param nanosToFirstFailure wall time from the start to the end of the first failing run, or -1
 * @param totalNanos         wall time of the whole exploration
 */
public record ScenarioOutcome(Scenario scenario, int runs, Optional<RunResult> firstFailure,
                              long nanosToFirstFailure, long totalNanos) {

    /** "pending", "clean" or the first failure's kind label. */
    public String actual() {
        if (scenario.expectation().isPending()) {
            return "pending";
        }
        return firstFailure.flatMap(RunResult::firstFailure).map(f -> f.kind().label())
                .orElse(firstFailure.isPresent() ? "diverged" : "clean");
    }

    /** The rule the first failing run broke, if it has a failure. */
    public Optional<Rule> actualRule() {
        return firstFailure.flatMap(RunResult::firstFailure).map(Failure::rule);
    }

    /** "pending", "clean", "diverged" or the id of the rule the first failure broke. */
    public String actualRuleId() {
        if (scenario.expectation().isPending()) {
            return "pending";
        }
        return actualRule().map(Rule::id).orElse(firstFailure.isPresent() ? "diverged" : "clean");
    }

    /**
     * True when the verdict is the expected one (a pending scenario counts as matching): a
     * clean design has no failing run, a known-bad one a first failure of the expected rule
     * (compared by id).
     */
    public boolean asExpected() {
        Expectation e = scenario.expectation();
        if (e.isPending()) {
            return true;
        }
        if (e.expectsClean()) {
            return firstFailure.isEmpty();
        }
        return actualRule().map(r -> r.id().equals(e.finds().id())).orElse(false);
    }
}
