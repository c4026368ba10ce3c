package hmm4j.scenarios;

import hmm4j.sim.rule.Rule;
import java.util.Objects;

/**
 * What a scenario is expected to produce: no failure over the whole budget ("clean"), or a
 * failure of one rule within the budget: a known-bad design must be caught by the rule it
 * breaks, not by any failure of the same kind. A scenario may be marked pending with the
 * reason (a capability it needs has not landed); it is then listed but not run, never faked.
 *
 * @param finds   the rule the design must be caught by, or null for a clean design
 * @param pending why the scenario cannot run yet, or null
 */
public record Expectation(Rule finds, String pending) {

    public static Expectation clean() {
        return new Expectation(null, null);
    }

    /** A known-bad design, caught by {@code rule}. */
    public static Expectation finds(Rule rule) {
        return new Expectation(Objects.requireNonNull(rule), null);
    }

    /** Same expectation, but not runnable yet for {@code reason}. */
    public Expectation pendingBecause(String reason) {
        return new Expectation(finds, Objects.requireNonNull(reason));
    }

    public boolean isPending() {
        return pending != null;
    }

    public boolean expectsClean() {
        return finds == null;
    }

    /** "clean" or the expected failure's kind label. */
    public String label() {
        return finds == null ? "clean" : finds.kind().label();
    }

    /** "clean" or the expected rule's id. */
    public String ruleId() {
        return finds == null ? "clean" : finds.id();
    }
}
