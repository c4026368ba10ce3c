package hmm4j.scenarios;

import hmm4j.sim.failure.FailureKind;
import java.util.Objects;

/**
 * What a scenario is expected to produce: no failure over the whole budget ("clean"), or a
 * failure of one kind within the budget. A scenario may be marked pending with the reason
 * (a capability it needs has not landed); it is then listed but not run, never faked.
 *
 * @param finds   the expected failure kind, or null for a clean design
 * @param pending why the scenario cannot run yet, or null
 */
public record Expectation(FailureKind finds, String pending) {

    public static Expectation clean() {
        return new Expectation(null, null);
    }

    public static Expectation finds(FailureKind kind) {
        return new Expectation(Objects.requireNonNull(kind), null);
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

    /** "clean" or the failure kind's label. */
    public String label() {
        return finds == null ? "clean" : finds.label();
    }
}
