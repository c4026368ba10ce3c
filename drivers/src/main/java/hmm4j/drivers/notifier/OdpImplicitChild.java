package hmm4j.drivers.notifier;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.sim.Kernel;

/**
 * S3d: the ODP implicit-child umem, whose per-mm notifier is obtained with
 * {@code mmu_notifier_get} from a page-fault work item rather than from the owning process.
 *
 * <p>The work item holds only {@code mmgrab} on the owner's mm (taken when the parent umem
 * was created). {@link #createFromWorkItem} with {@code pinned == false} is the February 2020
 * bug: registration walks the address space (and BUGs if it is already gone) with no
 * {@code mm_users} reference — the pin rule reports it even when the mm is still alive. With
 * {@code pinned == true} the work item takes {@code mmget_not_zero} around the registration
 * and gives up if the address space is gone.
 */
public final class OdpImplicitChild {
    /** The per-mm ops; its identity is the key of {@code mmu_notifier_get}. */
    private static final MmuNotifierOps OPS = new MmuNotifierOps() {
        @Override
        public ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
            return ErrPtr.of(new MmuNotifier("odp-per-mm", this));
        }
    };

    private OdpImplicitChild() {
    }

    /**
     * Work-item context: creates the child's notifier on {@code mm}, which the caller pins
     * with {@code mmgrab} only. Returns the subscription (put it when done) or null if the
     * address space was gone.
     */
    public static MmuNotifier createFromWorkItem(Kernel kernel, MmStruct mm, boolean pinned) {
        if (pinned && !mm.mmgetNotZero()) {
            return null;
        }
        try {
            ErrPtr<MmuNotifier> sub = MmuNotifier.mmuNotifierGet(OPS, mm);
            return sub.isErr() ? null : sub.get();
        } finally {
            if (pinned) {
                mm.mmput();
            }
        }
    }
}
