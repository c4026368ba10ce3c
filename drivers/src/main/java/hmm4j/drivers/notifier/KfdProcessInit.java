package hmm4j.drivers.notifier;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;

/**
 * S3b: creating the amdkfd per-process object, whose notifier's
 * {@code invalidate_range_start} evicts the process's queues under a lock in the object.
 * A later init step (here: the doorbell allocation) fails and the error path unwinds.
 *
 * <p>With {@code registrationLast == false} (August 2019) the notifier is registered before
 * the fallible step and the unwind does {@code mmu_notifier_unregister_no_release} and frees
 * the object at once: an invalidation already walking the list calls into freed memory.
 * With {@code registrationLast == true} (the fix) registration is the last fallible step:
 * the failure frees an object no notifier ever saw.
 */
public final class KfdProcessInit extends KObject {
    /** Coverage mark: the init step failed before registration, so the object was freed unseen. */
    public static final Mark UNWIND_UNREGISTERED = Mark.of("kfd.init.unwind-unregistered",
            "An init step failed before the notifier was registered and the object was freed unseen");

    private static final Op.Kind KFD_ALLOC_PROCESS_DOORBELLS = new Op.Kind("kfd_alloc_process_doorbells",
            Op.Access.WRITE);
    private static final MmuNotifierOps OPS = new MmuNotifierOps() {
        @Override
        public int invalidateRangeStart(MmuNotifier subscription, MmuNotifierRange range) {
            KfdProcessInit p = (KfdProcessInit) subscription.container();
            p.lock.lock();
            p.evictions++;
            p.lock.unlock();
            return 0;
        }
    };

    private final SpinLock lock;
    private final MmuNotifier notifier;
    private int evictions;

    private KfdProcessInit(Kernel kernel) {
        super(kernel, "kfd_process");
        this.lock = new SpinLock(kernel, "kfd_process->mutex", "kfd_process->mutex");
        this.notifier = new MmuNotifier(this, "kfd_process->mmu_notifier", OPS);
    }

    /**
     * {@code create_process} for {@code mm} with a doorbell allocation that fails.
     *
     * @return {@code -ENOMEM} (the init step's failure), after the unwind
     */
    public static int createWithFailingInit(Kernel kernel, MmStruct mm, boolean registrationLast) {
        KfdProcessInit p = new KfdProcessInit(kernel);
        if (!registrationLast) {
            p.notifier.register(mm);
            if (!p.allocateDoorbells()) {
                p.notifier.unregisterNoRelease(mm);
                p.kfree();
                return -Errno.ENOMEM;
            }
        } else if (!p.allocateDoorbells()) {
            kernel.mark(UNWIND_UNREGISTERED);
            p.kfree();
            return -Errno.ENOMEM;
        }
        return p.notifier.register(mm);
    }

    /** The init step that fails: no doorbell page is left. */
    private boolean allocateDoorbells() {
        // The step runs once per process, and fails: the operation is built here.
        kernel().point(new Op(KFD_ALLOC_PROCESS_DOORBELLS, target(), "kfd_alloc_process_doorbells"));
        return false;
    }

    /** Queue evictions seen. */
    public int evictions() {
        return evictions;
    }
}
