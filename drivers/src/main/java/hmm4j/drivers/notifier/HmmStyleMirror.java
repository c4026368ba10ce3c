package hmm4j.drivers.notifier;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Mutex;

/**
 * S3a: a mirror object embedding a classic notifier whose {@code invalidate_range_start}
 * takes the mirror's lock, in two teardown designs.
 *
 * <p>{@link #registerNoGracePeriod} + {@link #unregisterAndFree} is the June 2019
 * {@code struct hmm}: unlink with {@code mmu_notifier_unregister_no_release} and free at
 * once. A callback that found the subscription on the list just before the unlink then
 * runs on freed memory. {@link #get} + {@link #put} is the fix that became
 * {@code mmu_notifier_get/put}: the core calls {@code ->free_notifier}, which frees the
 * mirror, only after an SRCU grace period.
 */
public final class HmmStyleMirror extends KObject {
    /** The ops table: its identity is the key of {@code mmu_notifier_get}. */
    private static final MmuNotifierOps OPS = new MmuNotifierOps() {
        @Override
        public ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
            return ErrPtr.of(new HmmStyleMirror(mm.kernel()).notifier);
        }

        @Override
        public void freeNotifier(MmuNotifier subscription) {
            ((HmmStyleMirror) subscription.container()).kfree();
        }

        @Override
        public int invalidateRangeStart(MmuNotifier subscription, MmuNotifierRange range) {
            HmmStyleMirror mirror = (HmmStyleMirror) subscription.container();
            mirror.lock.lock();
            mirror.invalidations++;
            mirror.lock.unlock();
            return 0;
        }
    };

    private final Mutex lock;
    private final MmuNotifier notifier;
    private int invalidations;

    private HmmStyleMirror(Kernel kernel) {
        super(kernel, "hmm-mirror");
        this.lock = new Mutex(kernel, "hmm->lock");
        this.notifier = new MmuNotifier(this, "hmm-mirror->mn", OPS);
    }

    /** The 2019 design: allocate and {@code mmu_notifier_register} from the process. */
    public static HmmStyleMirror registerNoGracePeriod(Kernel kernel, MmStruct mm) {
        HmmStyleMirror mirror = new HmmStyleMirror(kernel);
        mirror.notifier.register(mm);
        return mirror;
    }

    /** The 2019 teardown: {@code mmu_notifier_unregister_no_release}, then {@code kfree} at once. */
    public void unregisterAndFree(MmStruct mm) {
        notifier.unregisterNoRelease(mm);
        kfree();
    }

    /** The fixed design: {@code mmu_notifier_get} (allocating through {@code ->alloc_notifier}). */
    public static HmmStyleMirror get(MmStruct mm) {
        return (HmmStyleMirror) MmuNotifier.mmuNotifierGet(OPS, mm).get().container();
    }

    /** The fixed teardown: {@code mmu_notifier_put}; the free comes after a grace period. */
    public void put() {
        notifier.mmuNotifierPut();
    }

    /** Invalidations seen (under the mirror lock). */
    public int invalidations() {
        return invalidations;
    }
}
