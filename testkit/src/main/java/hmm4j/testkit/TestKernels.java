package hmm4j.testkit;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.Strategy;
import java.util.Objects;

/**
 * Kernels for tests: controlled (one task at a time, the same seed gives the same run) and
 * with the checkers installed, so that a use-after-free, an unpinned address-space access, a
 * lock-order cycle or a sleep in atomic context is reported by the run rather than missed.
 */
public final class TestKernels {
    private TestKernels() {
    }

    /** A controlled kernel scheduled by the random walk of {@code seed}, checkers installed. */
    public static Kernel checked(long seed) {
        return install(Kernel.controlled(seed));
    }

    /** A controlled kernel scheduled by {@code strategy}, with {@code seed} for its randomness, checkers installed. */
    public static Kernel checked(long seed, Strategy strategy) {
        Objects.requireNonNull(strategy, "strategy");
        return install(Kernel.builder().seed(seed).strategy(strategy).build());
    }

    /** The kernel {@code builder} builds, checkers installed. */
    public static Kernel checked(Kernel.Builder builder) {
        return install(builder.build());
    }

    private static Kernel install(Kernel k) {
        Checkers.install(k);
        return k;
    }
}
