package hmm4j.check;

import static hmm4j.sim.failure.FailureKind.INVARIANT_VIOLATION;
import static hmm4j.sim.failure.FailureKind.REFCOUNT_ERROR;
import static hmm4j.sim.failure.FailureKind.USE_AFTER_FREE;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.RuleSet;
import java.util.List;

/**
 * The rules the checkers add to those of {@link hmm4j.sim.rule.SimRules}: the lifetime
 * sanitizer's double free and leaked object, and lockdep's held-lock bookkeeping. Lockdep's
 * cycles and recursions, sleeping in atomic context, use-after-free and the reference
 * ledger's problems are reported under the rules of their failure records in
 * {@code SimRules}.
 */
@HiddenFromSites
public final class CheckRules {
    /** KASAN's double free. */
    public static final Rule DOUBLE_FREE = Rule.kernel("mem.double-free", USE_AFTER_FREE,
            "mm/kasan/report.c", "kasan_report_invalid_free", "an object is freed once");
    /** An object never freed by the end of the run. */
    public static final Rule MEMORY_LEAK = Rule.kernel("mem.leak", REFCOUNT_ERROR,
            "mm/kmemleak.c", "kmemleak_scan",
            "every object expected to be gone at the end of a run has been freed");
    /** Lockdep's unlock imbalance. */
    public static final Rule RELEASE_HELD = Rule.kernel("lockdep.release-held", INVARIANT_VIOLATION,
            "kernel/locking/lockdep.c", "print_unlock_imbalance_bug",
            "a task releases, or changes the mode of, only a lock it holds");
    /** Lockdep's locks held at task exit. */
    public static final Rule NONE_HELD_AT_EXIT = Rule.kernel("lockdep.none-held-at-exit", INVARIANT_VIOLATION,
            "kernel/locking/lockdep.c", "debug_check_no_locks_held", "a task holds no lock when it exits");

    /** The set, for the catalogue. */
    public static final RuleSet SET = new RuleSet("Checkers (check)",
            "Checked by the lifetime sanitizer (hmm4j.check.lifetime) and lockdep (hmm4j.check.lockdep).",
            List.of(DOUBLE_FREE, MEMORY_LEAK, RELEASE_HELD, NONE_HELD_AT_EXIT));

    private CheckRules() {
    }
}
