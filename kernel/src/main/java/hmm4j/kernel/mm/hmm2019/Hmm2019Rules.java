package hmm4j.kernel.mm.hmm2019;

import static hmm4j.sim.failure.FailureKind.INVARIANT_VIOLATION;
import static hmm4j.sim.failure.FailureKind.UNPINNED_ADDRESS_SPACE;
import static hmm4j.sim.failure.FailureKind.USE_AFTER_FREE;

import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.RuleSet;
import java.util.List;

/**
 * The lifetime model of the 2019 review thread as rules (I-H1 to I-H14 of the project's
 * behavioural specification of the 2019 API), plus the driver misuses the API's
 * {@code VM_BUG_ON}s and list poisoning catch. v5.3 keeps all of them but I-H14; v5.2 breaks
 * the ones the review's patches fixed. Where an invariant is the generic pin rule
 * ({@code mm.pin}) or a reference-ledger rule, the model reports that rule and this set
 * names it in the statement instead of duplicating it.
 */
public final class Hmm2019Rules {
    private static final String HMM_C = "mm/hmm.c";

    /** I-H1: a registered range's hmm is live, with kref above 0. */
    public static final Rule RANGE_HMM_LIVE = Rule.kernel("hmm2019.range-hmm-live", USE_AFTER_FREE, HMM_C,
            "hmm_range_register, hmm_range_unregister",
            "I-H1: a registered range's struct hmm is not freed and its kref is above 0");
    /** I-H2: an allocated struct hmm's mm is allocated. */
    public static final Rule HMM_PINS_MM = Rule.kernel("hmm2019.hmm-pins-mm", USE_AFTER_FREE, HMM_C,
            "hmm_free", "I-H2: while a struct hmm is allocated, the mm_struct its mm field names is allocated");
    /** I-H3: address-space operations need mm_users; this is the pin rule, reported as mm.pin. */
    public static final Rule ADDRESS_SPACE_PINNED = Rule.kernel("hmm2019.address-space-pinned",
            UNPINNED_ADDRESS_SPACE, HMM_C, "hmm_range_snapshot, hmm_range_fault",
            "I-H3: find_vma, page walks and faults on an mm are done under an mm_users reference (reported as mm.pin)");
    /** I-H4: hmm_release starts only with no registered range. */
    public static final Rule RELEASE_NO_RANGES = Rule.kernel("hmm2019.release-no-ranges", INVARIANT_VIOLATION,
            HMM_C, "hmm_release", "I-H4: hmm_release starts only when hmm->ranges is empty");
    /** I-H5: notifiers counts the starts in flight; 0 at quiescence. */
    public static final Rule NOTIFIERS_BALANCED = Rule.kernel("hmm2019.notifiers-balanced", INVARIANT_VIOLATION,
            HMM_C, "hmm_invalidate_range_start",
            "I-H5: hmm->notifiers counts the invalidations between start and end, and is 0 when none is in flight");
    /** I-H6: a start that returns 0 had every mirror's sync succeed. */
    public static final Rule START_ZERO_ALL_SYNCED = Rule.kernel("hmm2019.start-zero-all-synced",
            INVARIANT_VIOLATION, HMM_C, "hmm_invalidate_range_start",
            "I-H6: hmm_invalidate_range_start returns 0 only if every mirror's sync_cpu_device_pagetables returned 0");
    /** I-H7: no callback touches a freed struct hmm. */
    public static final Rule CALLBACK_HMM_LIVE = Rule.kernel("hmm2019.callback-hmm-live", USE_AFTER_FREE, HMM_C,
            "hmm_invalidate_range_start, hmm_release, mm_get_hmm",
            "I-H7: a notifier callback never touches struct hmm memory after its free (free only after an SRCU grace period)");
    /** I-H8: a mirror is not freed while hmm_release may call it. */
    public static final Rule MIRROR_LIVE = Rule.kernel("hmm2019.mirror-live", USE_AFTER_FREE, HMM_C,
            "hmm_release", "I-H8: a mirror is not freed while on hmm->mirrors or while hmm_release may call its release");
    /** I-H9: mm->hmm names allocated memory, under page_table_lock. */
    public static final Rule MM_HMM_LIVE = Rule.kernel("hmm2019.mm-hmm-live", USE_AFTER_FREE, HMM_C,
            "mm_get_hmm, hmm_get_or_create", "I-H9: mm->hmm, if set, points at allocated struct hmm memory");
    /** I-H10: a mirror's release op never takes mirrors_sem for write (the rest of I-H10 is lockdep's). */
    public static final Rule RELEASE_NO_MIRRORS_SEM = Rule.kernel("hmm2019.release-no-mirrors-sem",
            INVARIANT_VIOLATION, HMM_C, "hmm_release",
            "I-H10: a mirror's release op does not take mirrors_sem for write (no synchronous hmm_mirror_unregister)");
    /** I-H11, mirrors: exactly one unregister per register. */
    public static final Rule MIRROR_UNREGISTER_ONCE = Rule.kernel("hmm2019.mirror-unregister-once",
            INVARIANT_VIOLATION, HMM_C, "hmm_mirror_register, hmm_mirror_unregister",
            "I-H11: hmm_mirror_unregister runs exactly once per successful hmm_mirror_register");
    /** I-H11, ranges: exactly one unregister per register, and no use after it. */
    public static final Rule RANGE_UNREGISTER_ONCE = Rule.kernel("hmm2019.range-unregister-once",
            INVARIANT_VIOLATION, HMM_C, "hmm_range_register, hmm_range_unregister",
            "I-H11: a range is registered once, unregistered once, and not used after hmm_range_unregister (poisoned hmm pointer)");
    /** I-H12: a range is registered on an hmm with a mirror. */
    public static final Rule RANGE_ON_MIRRORED_HMM = Rule.kernel("hmm2019.range-on-mirrored-hmm",
            INVARIANT_VIOLATION, HMM_C, "hmm_range_register",
            "I-H12: a range is registered only on a struct hmm that has at least one registered mirror");
    /** I-H14: hmm_range_valid true under the driver lock implies no invalidation since the walk. */
    public static final Rule VALID_MEANS_CURRENT = Rule.kernel("hmm2019.valid-means-current", INVARIANT_VIOLATION,
            "include/linux/hmm.h", "hmm_range_valid",
            "I-H14: a device commits only pfns no invalidation has passed since hmm_range_fault read them");
    /** VM_BUG_ON(!hmm) and the NULL dereferences of v5.2: a NULL struct hmm where the kernel would oops. */
    public static final Rule NULL_HMM = Rule.kernel("hmm2019.null-hmm", INVARIANT_VIOLATION, HMM_C,
            "hmm_invalidate_range_start (VM_BUG_ON), hmm_release",
            "VM_BUG_ON(!hmm): a callback or API call never dereferences a NULL struct hmm");
    /** The WARN of v5.3's start: a sync may fail only with -EAGAIN on a non-blockable range. */
    public static final Rule SYNC_FAILS_ONLY_NONBLOCK = Rule.kernel("hmm2019.sync-fails-only-nonblock",
            INVARIANT_VIOLATION, HMM_C, "hmm_invalidate_range_start",
            "sync_cpu_device_pagetables fails only with -EAGAIN, and only for a non-blockable update");
    /** The WARN of v5.4's hmm_free_notifier. */
    public static final Rule FREE_EMPTY = Rule.kernel("hmm2019.free-empty", INVARIANT_VIOLATION, HMM_C,
            "hmm_free_notifier", "a struct hmm is freed with no range and no mirror left on it");
    /** The model's check on the driver's spurious-failure report (H19-P04). */
    public static final Rule REGISTER_NO_SPURIOUS_ENOMEM = Rule.kernel("hmm2019.register-no-spurious-enomem",
            INVARIANT_VIOLATION, HMM_C, "hmm_get_or_create",
            "hmm_mirror_register returns -ENOMEM only when an allocation failed");

    /** The set, for the catalogue. */
    public static final RuleSet SET = new RuleSet("The 2019 HMM mirror API (kernel, hmm2019)",
            "The lifetime model of the 2019 review (I-H1 to I-H14) and the misuses of struct hmm, hmm_mirror and "
                    + "hmm_range that v5.2/v5.3 catch or should have caught; I-H3 is reported as mm.pin and I-H13 by the "
                    + "reference ledgers (refcount.*).",
            List.of(RANGE_HMM_LIVE, HMM_PINS_MM, ADDRESS_SPACE_PINNED, RELEASE_NO_RANGES, NOTIFIERS_BALANCED,
                    START_ZERO_ALL_SYNCED, CALLBACK_HMM_LIVE, MIRROR_LIVE, MM_HMM_LIVE, RELEASE_NO_MIRRORS_SEM,
                    MIRROR_UNREGISTER_ONCE, RANGE_UNREGISTER_ONCE, RANGE_ON_MIRRORED_HMM, VALID_MEANS_CURRENT,
                    NULL_HMM, SYNC_FAILS_ONLY_NONBLOCK, FREE_EMPTY, REGISTER_NO_SPURIOUS_ENOMEM));

    private Hmm2019Rules() {
    }
}
