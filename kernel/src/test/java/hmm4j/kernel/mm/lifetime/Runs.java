package hmm4j.kernel.mm.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.stream.Collectors;

/** Shared helpers for the mm lifetime and mm operation tests: checked kernels and run assertions. */
public final class Runs {
    private Runs() {
    }

    /** A controlled kernel with a fixed seed and the checkers (lockdep, sanitizer) installed. */
    public static Kernel checkedKernel(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        return k;
    }

    /** Renders the failures of a run for assertion messages. */
    public static String describe(RunResult r) {
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
}
