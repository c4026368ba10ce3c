package hmm4j.kernel.mm;

import hmm4j.check.lifetime.RefLedger;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.Task;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Rule mm.pin of one {@link MmStruct} ({@link MmStruct#assertAddressSpacePinned}): the check,
 * and its declared exceptions, workers whose accesses without an
 * {@code mm_users} reference are fenced by a classic notifier's {@code ->release}
 * ({@link MmStruct#declareReleaseFence}) or by a teardown barrier {@code __mmput} waits for
 * ({@link MmStruct#declareTeardownBarrier}).
 *
 * <p>Overview. A declaration names the worker task by identity and what fences it; an
 * exception holds only while that fence really holds the teardown back (the subscription is
 * registered and its release has not returned; the barrier is up), so a worker that outlives
 * its fence is reported like any unpinned access.
 *
 * <p>Locking: copy-on-write lists, read by any task, written by the declaring driver.
 */
final class PinRule {
    /** A kernel thread or worker whose unpinned accesses are fenced by a release notifier. */
    private record ReleaseFence(Task worker, MmuNotifier subscription) {
    }

    /** A kernel thread or worker whose unpinned accesses are covered by a teardown barrier. */
    private record BarrierDeclaration(Task worker, TeardownBarrier barrier) {
    }

    private final List<ReleaseFence> fences = new CopyOnWriteArrayList<>();
    private final List<BarrierDeclaration> barriers = new CopyOnWriteArrayList<>();

    void addReleaseFence(Task worker, MmuNotifier subscription) {
        fences.add(new ReleaseFence(worker, subscription));
    }

    void addTeardownBarrier(Task worker, TeardownBarrier barrier) {
        barriers.add(new BarrierDeclaration(worker, barrier));
    }

    /**
     * Reports "address space used without mmget" unless the calling task may use {@code mm}
     * ({@link MmStruct#assertAddressSpacePinned}); {@code exitingTask} runs {@code __mmput},
     * {@code oomReaper} reaps the mm.
     */
    void check(MmStruct mm, String op, Task exitingTask, Task oomReaper) {
        Kernel k = mm.kernel();
        Task t = k.current();
        RefLedger users = mm.usersLedger();
        if (t == null || t == exitingTask || users.holds(t)) {
            return;
        }
        if (t == oomReaper && mm.mmapLock().heldByCurrent()) {
            k.mark(MmStruct.OOM_REAPER_ACCESS);
            return;
        }
        for (ReleaseFence f : fences) {
            if (f.worker() == t && f.subscription().fenceActive(mm)) {
                k.mark(MmStruct.RELEASE_FENCE_ACCESS);
                return;
            }
        }
        for (BarrierDeclaration b : barriers) {
            if (b.worker() == t && b.barrier().holdsBack(mm)) {
                k.mark(MmStruct.TEARDOWN_BARRIER_ACCESS);
                return;
            }
        }
        k.report(new Failure.UnpinnedAddressSpaceUse(mm.name(), op, mm.describeState(),
                users.count() == 0 ? "nobody" : String.join(", ", users.holderNames()), k.site()));
    }
}
