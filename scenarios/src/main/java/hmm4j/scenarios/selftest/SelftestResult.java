package hmm4j.scenarios.selftest;

import hmm4j.sim.RunResult;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How one selftest ended.
 *
 * @param test        the test
 * @param status      pass, fail or skip
 * @param reason      the skip reason, or the failure's one-line message (the failed C assertion
 *                    with its values, or the checker's verdict); empty for a pass
 * @param diagnostics further lines for a failure (where it was detected, the checker's details)
 * @param counters    outcomes the test counted (e.g. how each racy READ of {@code anon_teardown} ended)
 * @param run         the run of the test's kernel (its seed, steps, failures and trace)
 */
public record SelftestResult(Selftest test, Status status, String reason, List<String> diagnostics,
                             Map<String, Long> counters, RunResult run) {

    /** The verdict of a test, as kselftest counts it. */
    public enum Status { PASS, FAIL, SKIP }

    public SelftestResult {
        Objects.requireNonNull(test, "test");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(reason, "reason");
        diagnostics = List.copyOf(diagnostics);
        counters = Map.copyOf(counters);
        Objects.requireNonNull(run, "run");
        if (status != Status.PASS && reason.isBlank()) {
            throw new IllegalArgumentException(status + " needs a reason");
        }
    }

    /** True for a pass. */
    public boolean passed() {
        return status == Status.PASS;
    }
}
