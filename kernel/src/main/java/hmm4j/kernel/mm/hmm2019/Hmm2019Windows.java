package hmm4j.kernel.mm.hmm2019;

import hmm4j.sim.Op;

/**
 * The scheduling points at which the races of the 2019 review happen, as
 * operation kinds: a strategy or a test that wants the race preempts the task whose pending
 * operation is of one of these kinds. Each is a read of the object named by its target (the
 * struct hmm, the mirror or the range), so POS sees it race with the writes to that object.
 */
public final class Hmm2019Windows {
    /** mm_get_hmm: between the unlocked read of {@code mm->hmm} and {@code kref_get_unless_zero}. */
    public static final Op.Kind MM_GET_HMM = new Op.Kind("hmm2019 window: mm_get_hmm", Op.Access.READ);
    /** hmm_free: between {@code mmu_notifier_unregister_no_release} and what follows (v5.2: the clear and kfree). */
    public static final Op.Kind HMM_FREE = new Op.Kind("hmm2019 window: hmm_free", Op.Access.READ);
    /**
     * hmm_release: just before a mirror's {@code ->release} call; in v5.2 after
     * {@code up_write(mirrors_sem)}, in v5.3 with {@code mirrors_sem} held for read.
     */
    public static final Op.Kind RELEASE_CALL = new Op.Kind("hmm2019 window: hmm_release", Op.Access.READ);
    /** snapshot/fault: between the dead/valid checks and {@code find_vma}. */
    public static final Op.Kind BEFORE_FIND_VMA = new Op.Kind("hmm2019 window: before find_vma", Op.Access.READ);
    /** snapshot/fault: between {@code find_vma} and the page walk. */
    public static final Op.Kind BEFORE_WALK = new Op.Kind("hmm2019 window: before the walk", Op.Access.READ);
    /** The unlocked reads of {@code hmm->dead} and {@code range->valid}. */
    public static final Op.Kind READ_FLAG = new Op.Kind("READ_ONCE", Op.Access.READ);

    private Hmm2019Windows() {
    }
}
