package hmm4j.sim.rule;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.failure.FailureKind;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One rule a checker, the runtime, the model or a driver enforces: what every failure names
 * ({@link hmm4j.sim.failure.Failure#rule()}), what a scenario expects to be caught by, and
 * what a comment cites as {@code rule <id>}.
 *
 * <p>A rule is a value, compared by its {@link #id}: the id is stable (reports, expectations,
 * {@code docs/invariants.md} and citations use it), lower case, dot-separated, its first part
 * the area ({@code mm.pin}, {@code notifier.end-pairs-start}, {@code lockdep.cycle}). The
 * {@link #statement} is one line in plain English and is the headline of an
 * {@link hmm4j.sim.failure.Failure.InvariantViolation}. A rule either follows the kernel (the
 * source {@link #file} and {@link #function} whose behaviour it checks) or is hmm4j's own (a
 * property of the model, a test device or a scenario, with no one place in the kernel).
 *
 * <p>Declaring one (a driver of a user's own declares its rules the same way, in a
 * {@link RuleSet} of its own):
 * <pre>{@code
 * static final Rule NO_STALE = Rule.own("mydrv.no-stale-entry", FailureKind.INVARIANT_VIOLATION,
 *         "the device table holds no entry an invalidation has passed");
 * static final Rule PAIRS = Rule.kernel("notifier.end-pairs-start", FailureKind.INVARIANT_VIOLATION,
 *         "mm/mmu_notifier.c", "__mmu_notifier_invalidate_range_end",
 *         "every end pairs with one successful start");
 * }</pre>
 *
 * @param id        stable id, e.g. {@code mm.pin}
 * @param kind      the failure kind a report of this rule has
 * @param statement the rule in one line
 * @param file      the kernel source file it follows, or null for hmm4j's own rule
 * @param function  the kernel function(s) it follows, or null for hmm4j's own rule
 */
@HiddenFromSites
public record Rule(String id, FailureKind kind, String statement, String file, String function) {
    /** The form of an id: lower-case words of letters, digits and dashes, joined by dots, at least two. */
    public static final Pattern ID = Pattern.compile("[a-z][a-z0-9-]*(?:\\.[a-z0-9][a-z0-9-]*)+");

    /** What {@link #follows()} says for a rule of hmm4j's own. */
    public static final String OWN = "hmm4j's own rule";

    public Rule {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(statement, "statement");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("rule id '" + id + "' is not of the form area.name (" + ID + ")");
        }
        if (statement.isBlank() || statement.contains("\n")) {
            throw new IllegalArgumentException("rule " + id + ": the statement must be one non-blank line");
        }
        if ((file == null) != (function == null)) {
            throw new IllegalArgumentException("rule " + id + ": give both the kernel file and function, or neither");
        }
    }

    /** A rule that follows {@code function} in the kernel's {@code file}. */
    public static Rule kernel(String id, FailureKind kind, String file, String function, String statement) {
        return new Rule(id, kind, statement, Objects.requireNonNull(file, "file"),
                Objects.requireNonNull(function, "function"));
    }

    /** A rule of hmm4j's own: of the model, a test device or a scenario. */
    public static Rule own(String id, FailureKind kind, String statement) {
        return new Rule(id, kind, statement, null, null);
    }

    /** True for a rule of hmm4j's own. */
    public boolean isOwn() {
        return file == null;
    }

    /** {@code file: function} for a kernel rule, else {@value #OWN}. */
    public String follows() {
        return isOwn() ? OWN : file + ": " + function;
    }

    /** Rules are equal when their ids are. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Rule r && id.equals(r.id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    /** The id. */
    @Override
    public String toString() {
        return id;
    }
}
