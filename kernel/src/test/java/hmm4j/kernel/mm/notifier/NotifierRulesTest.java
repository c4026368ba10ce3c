package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Gfp;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.sim.failure.Failure;
import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;

/**
 * I-20 (no reclaiming allocation inside a callback, found through lockdep's fs_reclaim map
 * that registration ties to invalidate_range_start) and I-11 (a get that would wrap the
 * users count fails with -EOVERFLOW).
 */
class NotifierRulesTest {

    private static MmuNotifierOps allocatingIn(int gfp) {
        return new MmuNotifierOps() {
            @Override
            public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                Gfp.mightAlloc(s.mm().kernel(), gfp);
                return 0;
            }
        };
    }

    @Test
    void gfpKernelAllocationInACallback_isALockOrderCycleWithFsReclaim() {
        var run = runProcess(1, (k, mm, base) -> {
            MmuNotifier sub = new MmuNotifier("allocates", allocatingIn(Gfp.GFP_KERNEL));
            sub.register(mm);
            Mmap.munmap(mm, base, PAGE);
        });
        var cycle = hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure(run, Failure.LockOrderCycle.class);
        String both = cycle.held() + " " + cycle.acquiring();
        assertTrue(both.contains("fs_reclaim") && both.contains("mmu_notifier_invalidate_range_start"), both);
    }

    @Test
    void gfpNofsAllocationInACallback_reacquiresTheStartMap_asFsReclaimAcquirePrimesIt() {
        var run = runProcess(1, (k, mm, base) -> {
            MmuNotifier sub = new MmuNotifier("allocates-nofs", allocatingIn(Gfp.GFP_NOFS));
            sub.register(mm);
            Mmap.munmap(mm, base, PAGE);
        });
        var f = hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure(run, Failure.class);
        assertTrue(f.toString().contains("mmu_notifier_invalidate_range_start"), f.toString());
        assertTrue(!f.toString().contains("fs_reclaim"), "GFP_NOFS takes no fs_reclaim: " + f);
    }

    @Test
    void gfpNowaitAllocationInACallback_isFine() {
        runClean(1, (k, mm, base) -> {
            MmuNotifier sub = new MmuNotifier("allocates-atomically", allocatingIn(Gfp.GFP_NOWAIT));
            sub.register(mm);
            Mmap.munmap(mm, base, PAGE);
            sub.unregister(mm);
        });
    }

    @Test
    void getAtUintMaxUsers_failsWithEoverflow_andLeavesTheCount() throws Exception {
        runClean(1, (k, mm, base) -> {
            MmuNotifierOps ops = new MmuNotifierOps() {
                @Override
                public ErrPtr<MmuNotifier> allocNotifier(MmStruct m) {
                    return ErrPtr.of(new MmuNotifier("counted", this));
                }
            };
            MmuNotifier sub = MmuNotifier.mmuNotifierGet(ops, mm).get();
            Field users = MmuNotifier.class.getDeclaredField("users");
            users.setAccessible(true);
            users.setInt(sub, -2);
            assertSame(sub, MmuNotifier.mmuNotifierGet(ops, mm).get(), "UINT_MAX - 1 + 1 still fits");
            assertEquals(-1, sub.users(), "UINT_MAX");
            ErrPtr<MmuNotifier> over = MmuNotifier.mmuNotifierGet(ops, mm);
            assertTrue(over.isErr());
            assertEquals(-Errno.EOVERFLOW, over.ptrErr());
            assertEquals(-1, sub.users(), "the failed get took nothing");
            users.setInt(sub, 1);
            sub.mmuNotifierPut();
            MmuNotifier.mmuNotifierSynchronize(k);
        });
    }
}
