package hmm4j.scenarios;

import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.Mark;
import hmm4j.sim.rule.Rule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

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
 * <p>A known-bad design is found by the default strategy (the portfolio) within the budget,
 * and normally by every single strategy too. A design may declare the single strategies that
 * cannot find it ({@link #missedBy}), each with the reason (for example, bounded DFS explores
 * only the first preemption points of a run, and the race needs a preemption late in it); the
 * exploration test checks the declaration both ways: every other strategy finds the rule, and
 * each declared one really does not (or finds the declared other rule first).
 *
 * @param finds    the rule the design must be caught by, or null for a clean design
 * @param pending  why the scenario cannot run yet, or null
 * @param marks    the marks the exploration of a clean design must reach (empty for a failing one)
 * @param missedBy the single strategies (canonical {@link StrategySpec} text) that do not find
 *                 {@code finds} within the budget, each with its {@link Miss}
 */
public record Expectation(Rule finds, String pending, List<Mark> marks, Map<String, Miss> missedBy) {

    /**
     * Why one strategy does not find a design's rule.
     *
     * @param instead the other rule this strategy finds first, or null if it finds nothing
     * @param reason  why, in plain English
     */
    public record Miss(Rule instead, String reason) {
        public Miss {
            Objects.requireNonNull(reason);
        }
    }

    public Expectation {
        marks = List.copyOf(marks);
        missedBy = Collections.unmodifiableMap(new LinkedHashMap<>(missedBy));
        if (finds != null && !marks.isEmpty()) {
            throw new IllegalArgumentException("only a clean design lists the marks it must reach");
        }
        if (marks.stream().distinct().count() != marks.size()) {
            throw new IllegalArgumentException("a mark is listed twice: " + marks);
        }
        if (finds == null && !missedBy.isEmpty()) {
            throw new IllegalArgumentException("only a known-bad design lists the strategies that miss it");
        }
    }

    /** An expectation that lists no marks and no missing strategies. */
    public Expectation(Rule finds, String pending) {
        this(finds, pending, List.of(), Map.of());
    }

    /** An expectation that lists no missing strategies. */
    public Expectation(Rule finds, String pending, List<Mark> marks) {
        this(finds, pending, marks, Map.of());
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
        List<Mark> all = new ArrayList<>(this.marks);
        all.addAll(List.of(marks));
        return new Expectation(finds, pending, all, missedBy);
    }

    /**
     * This known-bad expectation, declaring that the single strategy {@code strategy} finds
     * nothing within the budget, for {@code reason}.
     *
     * @throws IllegalArgumentException for a clean design, the portfolio (the default must
     *                                  always find it), a strategy declared twice or bad text
     */
    public Expectation missedBy(String strategy, String reason) {
        return withMiss(strategy, new Miss(null, reason));
    }

    /**
     * This known-bad expectation, declaring that {@code strategy} first finds {@code instead}
     * (another real bug of the same design), for {@code reason}.
     */
    public Expectation missedBy(String strategy, Rule instead, String reason) {
        return withMiss(strategy, new Miss(Objects.requireNonNull(instead), reason));
    }

    private Expectation withMiss(String strategy, Miss miss) {
        StrategySpec spec = StrategySpec.parse(strategy);
        if (spec.kind() == StrategySpec.Kind.PORTFOLIO) {
            throw new IllegalArgumentException("the default strategy may not be excused");
        }
        if (miss.instead() != null && miss.instead().equals(finds)) {
            throw new IllegalArgumentException("a miss names another rule than the expected one");
        }
        Map<String, Miss> all = new LinkedHashMap<>(missedBy);
        if (all.put(spec.text(), miss) != null) {
            throw new IllegalArgumentException(spec.text() + " is declared twice");
        }
        return new Expectation(finds, pending, marks, all);
    }

    /** The declared miss of {@code strategy} (canonical text), if any. */
    public Optional<Miss> missOf(String strategy) {
        return Optional.ofNullable(missedBy.get(StrategySpec.parse(strategy).text()));
    }

    /** Same expectation, but not runnable yet for {@code reason}. */
    public Expectation pendingBecause(String reason) {
        return new Expectation(finds, Objects.requireNonNull(reason), marks, missedBy);
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
