package hmm4j.scenarios;

import hmm4j.explore.MarkCoverage;
import hmm4j.sim.Mark;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.Rule;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The result of exploring one scenario.
 *
 * @param scenario           the scenario
 * @param runs               runs executed (a known-bad design stops at its first failure)
 * @param firstFailure       the first failing run, if any
 * @param nanosToFirstFailure wall time from the start to the end of the first failing run, or -1
 * @param totalNanos         wall time of the whole exploration
 * @param marks              the coverage marks the exploration reached
 * @param exhaustedAtBound   for a DFS exploration that covered its whole space: the preemption
 *                           bound at which it was exhausted
 */
public record ScenarioOutcome(Scenario scenario, int runs, Optional<RunResult> firstFailure,
                              long nanosToFirstFailure, long totalNanos, MarkCoverage marks,
                              Optional<Integer> exhaustedAtBound) {

    public ScenarioOutcome {
        Objects.requireNonNull(marks, "marks");
        Objects.requireNonNull(exhaustedAtBound, "exhaustedAtBound");
    }

    /** An outcome whose exploration did not exhaust a search space. */
    public ScenarioOutcome(Scenario scenario, int runs, Optional<RunResult> firstFailure, long nanosToFirstFailure,
                           long totalNanos, MarkCoverage marks) {
        this(scenario, runs, firstFailure, nanosToFirstFailure, totalNanos, marks, Optional.empty());
    }

    /** An outcome that reached no coverage mark. */
    public ScenarioOutcome(Scenario scenario, int runs, Optional<RunResult> firstFailure, long nanosToFirstFailure,
                           long totalNanos) {
        this(scenario, runs, firstFailure, nanosToFirstFailure, totalNanos, MarkCoverage.NONE);
    }

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

    /** The marks the expectation lists that the exploration did not reach, in the listed order. */
    public List<Mark> missingMarks() {
        if (scenario.expectation().isPending()) {
            return List.of();
        }
        return marks.missing(scenario.expectation().marks());
    }

    /** {@code reached/listed marks}, e.g. {@code 9/9 marks}, or empty when the expectation lists none. */
    public Optional<String> marksLine() {
        List<Mark> listed = scenario.expectation().marks();
        if (listed.isEmpty() || scenario.expectation().isPending()) {
            return Optional.empty();
        }
        return Optional.of((listed.size() - missingMarks().size()) + "/" + listed.size() + " mark"
                + (listed.size() == 1 ? "" : "s"));
    }

    /**
     * True when the verdict is the expected one (a pending scenario counts as matching): a
     * clean design has no failing run and reached every listed mark, a known-bad one has a
     * first failure of the expected rule (compared by id).
     */
    public boolean asExpected() {
        Expectation e = scenario.expectation();
        if (e.isPending()) {
            return true;
        }
        if (e.expectsClean()) {
            return firstFailure.isEmpty() && missingMarks().isEmpty();
        }
        return actualRule().map(r -> r.id().equals(e.finds().id())).orElse(false);
    }
}
