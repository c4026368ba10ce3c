package hmm4j.kernel.mm.notifier;

import hmm4j.kernel.mm.MmStruct;
import java.util.Objects;

/**
 * The interval-notifier additions proposed in January 2020 and <em>not merged</em>
 * (scenario S4): {@code mmu_interval_notifier_find} and the asynchronous
 * {@code mmu_interval_notifier_put}. They exist so that the catalogue can show why they
 * were rejected; no mainline path uses them.
 *
 * <p>{@link #mmuIntervalNotifierFind} looks the tree up under the subscriptions lock and
 * returns the pointer after dropping it, with no reference: it does not see the deferred
 * list, so it returns subscriptions whose removal is pending and whose memory the driver's
 * release callback may free at any moment. {@link #mmuIntervalNotifierPut} removes without
 * waiting: at once if the tree is not frozen, else when the last invalidation ends, and
 * then calls the driver's release callback (which frees the subscription's memory) from
 * whichever task ended that invalidation.
 */
public final class MmuIntervalNotifierProposed2020 {
    private MmuIntervalNotifierProposed2020() {
    }

    /**
     * Proposed {@code mmu_interval_notifier_find(mm, ops, start, last)}: the first
     * subscription of {@code ops} in the tree overlapping [start, last], or null. The
     * result is not protected by anything once this returns.
     */
    public static MmuIntervalNotifier mmuIntervalNotifierFind(MmStruct mm, MmuIntervalNotifierOps ops, long start,
            long last) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        if (subs == null || !subs.hasItree()) {
            return null;
        }
        return subs.itree().findLocked(ops, start, last);
    }

    /**
     * Proposed {@code mmu_interval_notifier_put(sub)}: asynchronous removal. May be called
     * from {@code invalidate}. {@code release} is called once the subscription is out of the
     * tree — at once, or by the task whose invalidation end drains the deferred list — and
     * then the mm pin of the insert is dropped.
     */
    public static void mmuIntervalNotifierPut(MmuIntervalNotifier sub, Runnable release) {
        Objects.requireNonNull(release, "release");
        MnItree itree = sub.mm().notifierSubscriptions().itree();
        sub.setDeferredRelease(release);
        if (itree.removeOrDefer(sub)) {
            runRelease(sub);
        }
    }

    static void runRelease(MmuIntervalNotifier sub) {
        Runnable release = sub.deferredRelease();
        sub.setDeferredRelease(null);
        MmStruct mm = sub.mm();
        release.run();
        mm.mmdropAs(sub.mmRef());
    }
}
