package hmm4j.scenarios.rules;

import static hmm4j.sim.failure.FailureKind.INVARIANT_VIOLATION;

import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.RuleSet;
import java.util.List;

/** The rules the scenarios and the ported selftests check themselves. */
public final class ScenarioRules {
    /** S1's check of what the worker read. */
    public static final Rule COPY_FROM_USER_DATA = Rule.own("usemm.copy-from-user-data", INVARIANT_VIOLATION,
            "a copy_from_user by a worker that returns 0 has copied the data the process wrote");
    /** A failed assertion of a ported selftest. */
    public static final Rule SELFTEST_ASSERTION = Rule.own("selftest.assertion", INVARIANT_VIOLATION,
            "every assertion of a ported hmm-tests.c test holds");
    /** S6's check of the data after a migration to the device and back. */
    public static final Rule MIGRATED_DATA = Rule.own("migrate.data-kept", INVARIANT_VIOLATION,
            "what a process wrote reads back the same after its pages went to device memory and back");

    /** The set, for the catalogue. */
    public static final RuleSet SET = new RuleSet("Scenarios and selftests (scenarios)",
            "Checked by the scenario workloads themselves and by the kselftest-like harness of the ported selftests.",
            List.of(COPY_FROM_USER_DATA, SELFTEST_ASSERTION, MIGRATED_DATA));

    private ScenarioRules() {
    }
}
