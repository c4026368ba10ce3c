package hmm4j.kernel.mm.hmm2019;

import java.util.EnumSet;
import java.util.Set;

/**
 * One change of the 2019 review series (merged order, v4 numbering), the 5.3-rc
 * {@code -EBUSY} fix and the 5.4 {@code mmu_notifier_get} conversion, as a toggle on top of
 * v5.2. Each knows its title, the race it fixes and the patches it needs, so a
 * {@link Hmm2019Config} refuses a combination the series never had.
 */
public enum Hmm2019Patch {
    /** P01: callbacks use container_of and a kref_get_unless_zero; the free waits for SRCU. */
    P01("mm/hmm: fix use after free with struct hmm in the mmu notifiers",
            "a notifier callback runs on a struct hmm the last unregister just freed"),
    /** P02: hmm_range_register takes the mirror instead of the mm. */
    P02("mm/hmm: use hmm_mirror not mm as an argument for hmm_range_register",
            "a range registration creates and registers a new hmm under the mmap read lock"),
    /** P03: struct hmm holds its own mmgrab. */
    P03("mm/hmm: hold a mmgrab from hmm to mm",
            "hmm_free touches the mm_struct its own notifier unregister just freed"),
    /** P04: get_or_create under page_table_lock, publish after registration. */
    P04("mm/hmm: simplify hmm_get_or_create and make it reliable",
            "hmm_mirror_register fails with -ENOMEM while the previous hmm is being freed"),
    /** P05: wait_until_valid is wait_event_timeout alone. */
    P05("mm/hmm: remove duplicate condition test before wait_event_timeout",
            "hmm_range_wait_until_valid skips might_sleep when the range is valid"),
    /** P06: hmm->ranges is a plain list under its lock. */
    P06("mm/hmm: do not use list*_rcu() for hmm->ranges",
            "none reachable: every user of hmm->ranges holds its lock"),
    /** P07: a range holds mmget; dead and hmm_mirror_mm_is_alive are gone. */
    P07("mm/hmm: hold on to the mmget for the lifetime of the range",
            "hmm_range_fault walks an address space exit_mmap is tearing down"),
    /** P08: hmm_mirror_register asserts the mmap write lock. */
    P08("mm/hmm: use lockdep instead of comments",
            "hmm_mirror_register called with the mmap lock held only for read goes unnoticed"),
    /** P09: no guard against a second hmm_mirror_unregister. */
    P09("mm/hmm: remove racy protection against double-unregistration",
            "two concurrent unregisters of one mirror both drop its kref"),
    /** P10: range->hmm is poisoned by hmm_range_unregister. */
    P10("mm/hmm: poison hmm_range during unregister",
            "a range used after hmm_range_unregister goes unnoticed"),
    /** P11: hmm_release calls ->release under mirrors_sem (read) without unlinking. */
    P11("mm/hmm: remove confusing comment and logic from hmm_release",
            "hmm_release calls ->release on a mirror its driver is freeing"),
    /** P12: start's error flows unwind the count and propagate -EAGAIN; the lock is a spinlock. */
    P12("mm/hmm: fix error flows in hmm_invalidate_range_start",
            "a failed non-blocking start leaks hmm->notifiers or returns 0 although a device kept its mapping"),
    /** RC: hmm_range_fault/snapshot return -EBUSY for an invalid range and keep mmap_sem. */
    RC("mm/hmm: always return EBUSY for invalid ranges in hmm_range_{fault,snapshot}",
            "the documented retry loop unlocks mmap_sem twice after -EAGAIN"),
    /** GET: struct hmm is an mmu_notifier_get/put subscription (v5.4). */
    GET("hmm: use mmu_notifier_get/put for 'struct hmm'",
            "none reachable in v5.3; the core frees the hmm after the grace period");

    private final String title;
    private final String race;

    Hmm2019Patch(String title, String race) {
        this.title = title;
        this.race = race;
    }

    /** The patch's subject line. */
    public String title() {
        return title;
    }

    /** The race or contract violation it removes, in one line. */
    public String race() {
        return race;
    }

    /** The patches this one needs or assumes. */
    public Set<Hmm2019Patch> needs() {
        return switch (this) {
            case P04 -> EnumSet.of(P03);
            case P05, P11 -> EnumSet.of(P07);
            case P07 -> EnumSet.of(P02, P03);
            case P10 -> EnumSet.of(P09, P11);
            case GET -> EnumSet.range(P01, RC);
            default -> EnumSet.noneOf(Hmm2019Patch.class);
        };
    }
}
