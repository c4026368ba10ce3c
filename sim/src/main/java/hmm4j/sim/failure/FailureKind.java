package hmm4j.sim.failure;

import hmm4j.sim.HiddenFromSites;

/** The closed set of verdicts a run can end with, one per {@link Failure} type. */
@HiddenFromSites
public enum FailureKind {
    USE_AFTER_FREE("use-after-free"),
    UNPINNED_ADDRESS_SPACE("address space used without mmget"),
    REFCOUNT_ERROR("refcount error"),
    LOCK_ORDER_CYCLE("possible circular locking dependency"),
    SLEEP_IN_ATOMIC("sleeping function called from invalid context"),
    DEADLOCK("deadlock"),
    STEP_BOUND_EXCEEDED("run bound exceeded"),
    INVARIANT_VIOLATION("invariant violation"),
    UNEXPECTED_EXCEPTION("unexpected exception");

    private final String label;

    FailureKind(String label) {
        this.label = label;
    }

    /** The human label used in verdict lines and tables. */
    public String label() {
        return label;
    }
}
