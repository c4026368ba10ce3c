package hmm4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import java.util.stream.Collectors;

/** Assertions on one run's result, with the run's failures in the message when they fail. */
public final class RunAssertions {
    private RunAssertions() {
    }

    /** The run's seed and each failure's headline and details, for assertion messages. */
    public static String describe(RunResult r) {
        if (r.failures().isEmpty()) {
            return "seed " + r.seed() + ": no failure" + r.divergence().map(d -> " (" + d + ")").orElse("");
        }
        return "seed " + r.seed() + ": " + r.failures().stream()
                .map(f -> f.headline() + " " + f.details())
                .collect(Collectors.joining("; "));
    }

    /** Asserts that the run finished without any failure. */
    public static void assertClean(RunResult r) {
        assertTrue(r.clean() && r.failures().isEmpty(), () -> "expected a clean run, got " + describe(r));
    }

    /** Asserts that the run reported exactly one failure, of {@code type}, and returns it. */
    public static <F extends Failure> F assertSingleFailure(RunResult r, Class<F> type) {
        assertEquals(1, r.failures().size(), () -> "expected exactly one failure, got " + describe(r));
        return assertInstanceOf(type, r.failures().get(0), () -> describe(r));
    }

    /** Asserts that the run's first failure is of {@code kind}, and returns it. */
    public static Failure assertFails(RunResult r, FailureKind kind) {
        Failure f = r.firstFailure().orElse(null);
        assertTrue(f != null, () -> "expected a " + kind.label() + ", got " + describe(r));
        assertEquals(kind, f.kind(), () -> describe(r));
        return f;
    }

    /** Asserts that the run's first failure is a report of {@code rule}, and returns it. */
    public static Failure assertFails(RunResult r, Rule rule) {
        Failure f = assertFails(r, rule.kind());
        assertEquals(rule.id(), f.rule().id(), () -> describe(r));
        return f;
    }
}
