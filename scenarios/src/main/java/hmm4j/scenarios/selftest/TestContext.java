package hmm4j.scenarios.selftest;

import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one selftest run learned about itself, kept as a component of its {@link Kernel}
 * (one test, one kernel): the failed assertion that stopped it, the reason it was skipped,
 * whether its body ran to the end, and counters of outcomes a test chooses to record (which
 * way a racy call went, for instance). {@link Kselftest} reads it after the run to tell a
 * failed assertion from a checker failure and a skip from a pass.
 *
 * <p>Locking: written only by the test's tasks, which the controlled runtime runs one at a
 * time; read by the harness after the run.
 */
final class TestContext {
    private Failure assertion;
    private String skipReason;
    private boolean finished;
    private final Map<String, Long> counters = new TreeMap<>();

    private TestContext() {
    }

    /** The context of the test running on {@code kernel}, created on first use. */
    static TestContext of(Kernel kernel) {
        return kernel.component(TestContext.class, TestContext::new);
    }

    /** Records the first failed assertion (later ones, if any, are the same run unwinding). */
    void assertionFailed(Failure failure) {
        if (assertion == null) {
            assertion = failure;
        }
    }

    /** The failed assertion, or null. */
    Failure assertion() {
        return assertion;
    }

    /** Records that the test skipped itself ({@code SKIP()} of kselftest). */
    void skipped(String reason) {
        if (skipReason == null) {
            skipReason = reason;
        }
    }

    /** The skip reason, or null when the test did not skip. */
    String skipReason() {
        return skipReason;
    }

    /** Records that the test process ran set-up, body and tear-down to their end. */
    void finished() {
        finished = true;
    }

    boolean isFinished() {
        return finished;
    }

    /** Adds one to the counter {@code outcome}. */
    void count(String outcome) {
        counters.merge(outcome, 1L, Long::sum);
    }

    /** The counters, by name. */
    Map<String, Long> counters() {
        return Map.copyOf(counters);
    }
}
