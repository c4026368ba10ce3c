package hmm4j.sim;

import java.util.Comparator;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A coverage mark: a rare branch of the model that a design's argument depends on, such as
 * an interval insert deferred because an invalidation is in flight. Model code declares each
 * mark once, as a {@code static final} next to the branch, and hits it there with
 * {@link Kernel#mark(Mark)} (or {@link #hit(Kernel)}); the run result lists the marks its run
 * hit ({@link RunResult#marks()}), the explorer counts them over an exploration, and a clean
 * catalogue scenario names the marks its exploration must reach, so that a clean verdict
 * cannot hide an exploration that never took the branch.
 *
 * <p>Overview: a mark is an identity (the object) with a stable id for people, reports and
 * files (lower-case words joined by dots, e.g. {@code mn.interval.deferred-insert}) and a
 * one-line statement of the branch. Hitting a mark costs a lookup in a small per-kernel set
 * ({@code MarkTable}): no allocation after its first hit in a kernel, no lock unless it is the
 * first hit, and never a scheduling point, so marks do not change any scheduling decision.
 * Marks are compared by identity; {@link #BY_ID} orders them for output.
 */
@HiddenFromSites
public final class Mark {
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]*(\\.[a-z0-9][a-z0-9-]*)+");

    /** Marks in the order of their ids. */
    public static final Comparator<Mark> BY_ID = Comparator.comparing(Mark::id);

    private final String id;
    private final String statement;
    /** A spread of the id's hash, the mark's slot in a kernel's table. */
    final int hash;

    private Mark(String id, String statement) {
        this.id = id;
        this.statement = statement;
        int h = id.hashCode() * 0x9E3779B9;
        this.hash = h ^ (h >>> 16);
    }

    /**
     * A mark, to be kept in a {@code static final} field next to the branch it marks.
     *
     * @param id        stable id, lower-case words joined by dots, e.g. {@code mn.interval.deferred-insert}
     * @param statement what happened when the mark is hit, in one line
     * @throws IllegalArgumentException when the id is not of that form or the statement is blank
     */
    public static Mark of(String id, String statement) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(statement, "statement");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("mark id '" + id
                    + "' is not lower-case words joined by dots (e.g. mn.interval.deferred-insert)");
        }
        if (statement.isBlank() || statement.contains("\n")) {
            throw new IllegalArgumentException("mark " + id + " needs a one-line statement");
        }
        return new Mark(id, statement);
    }

    /** The stable id, e.g. {@code mn.interval.deferred-insert}. */
    public String id() {
        return id;
    }

    /** What happened when the mark is hit, in one line. */
    public String statement() {
        return statement;
    }

    /** Records that {@code kernel}'s run took this branch; the same as {@link Kernel#mark(Mark)}. */
    public void hit(Kernel kernel) {
        kernel.mark(this);
    }

    /** The id. */
    @Override
    public String toString() {
        return id;
    }
}
