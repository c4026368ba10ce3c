package hmm4j.scenarios;

import hmm4j.sim.Mark;
import hmm4j.sim.rule.Rule;
import java.util.List;
import java.util.Objects;

/**
 * What a scenario is expected to produce: no failure over the whole budget ("clean"), or a
 * failure of one rule within the budget: a known-bad design must be caught by the rule it
 * breaks, not by any failure of the same kind. A scenario may be marked pending with the
 * reason (a capability it needs has not landed); it is then listed but not run, never faked.
 *
 * <p>A clean design also names the coverage marks ({@link Mark}) its exploration must reach
 * ({@link #reaching}): the rare branches its argument rests on. A clean verdict whose
 * exploration missed one of them is not the expected outcome.
 *
 * @param finds   the rule the design must be caught by, or null for a clean design
 * @param pending why the scenario cannot run yet, or null
 * @param marks   the marks the exploration of a clean design must reach (empty for a failing one)
 */
public record Expectation(Rule finds, String pending, List<Mark> marks) {

    public Expectation {
        marks = List.copyOf(marks);
        if (finds != null && !marks.isEmpty()) {
            throw new IllegalArgumentException("only a clean design lists the marks it must reach");
        }
        if (marks.stream().distinct().count() != marks.size()) {
            throw new IllegalArgumentException("a mark is listed twice: " + marks);
        }
    }

    /** An expectation that lists no marks. */
    public Expectation(Rule finds, String pending) {
        this(finds, pending, List.of());
    }

    public static Expectation clean() {
        return new Expectation(null, null);
    }

    /** A known-bad design, caught by {@code rule}. */
    public static Expectation finds(Rule rule) {
        return new Expectation(Objects.requireNonNull(rule), null);
    }

    /**
     * This clean expectation, whose exploration must also reach every one of {@code marks}
     * (added to those already listed).
     *
     * @throws IllegalArgumentException for an expectation that finds a failure, or a mark listed twice
     */
    public Expectation reaching(Mark... marks) {
        List<Mark> all = new java.util.ArrayList<>(this.marks);
        all.addAll(List.of(marks));
        return new Expectation(finds, pending, all);
    }

    /** Same expectation, but not runnable yet for {@code reason}. */
    public Expectation pendingBecause(String reason) {
        return new Expectation(finds, Objects.requireNonNull(reason), marks);
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
