package hmm4j.kernel.mm.lifetime;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Completion;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code mm_struct} behaviour that mutation testing found unchecked: every accessor of a freed
 * mm is a use-after-free naming that access, the mmap-lock assertion of the VMA lookups, the
 * structure's id, and the coverage marks of a failed {@code mmget_not_zero}, a
 * {@code get_task_mm} of an exited task and an access allowed by a release fence.
 */
class MmStructMutantsTest {

    /** An accessor of an mm, and the access its use-after-free report names. */
    enum Accessor {
        PAGE_TABLE_LOCK("mm->page_table_lock", MmStruct::pageTableLock),
        PTE_PEEK("pte peek", mm -> mm.ptePeek(0)),
        NOTIFIER_SUBSCRIPTIONS("mm->notifier_subscriptions", MmStruct::notifierSubscriptions),
        SET_NOTIFIER_SUBSCRIPTIONS("mm->notifier_subscriptions", mm -> mm.setNotifierSubscriptions(null)),
        HAS_NOTIFIERS("mm->notifier_subscriptions", MmStruct::hasNotifiers),
        DECLARE_RELEASE_FENCE("declare release fence",
                mm -> mm.declareReleaseFence(mm.kernel().current(), new MmuNotifier("fence", new MmuNotifierOps() { }))),
        MMPUT_ASYNC("mmput_async", MmStruct::mmputAsync),
        VMAS("a vma walk", mm -> mm.vmas("a vma walk")),
        PGD("a page walk", mm -> mm.pgd("a page walk")),
        ASSERT_PINNED("an access", mm -> mm.assertAddressSpacePinned("an access"));

        final String access;
        final Consumer<MmStruct> call;

        Accessor(String access, Consumer<MmStruct> call) {
            this.access = access;
            this.call = call;
        }
    }

    @ParameterizedTest
    @EnumSource(Accessor.class)
    void anAccessorOfAFreedMm_isAUseAfterFreeNamingTheAccess(Accessor accessor) {
        Kernel k = checkedKernel(5);
        MmStruct mm = MmStruct.mmAlloc(k, RefHandle.mainContext(k));
        Completion freed = new Completion(k, "freed");
        k.spawnUser("owner", self -> {
            mm.mmput();
            freed.complete();
        }, t -> mm.transferUsersRef(t));
        k.spawnKthread("late", self -> {
            freed.waitForCompletion();
            accessor.call.accept(mm);
        });
        Failure.UseAfterFree uaf = assertSingleFailure(k.run(), Failure.UseAfterFree.class);
        assertEquals("mm#1", uaf.object());
        assertEquals(accessor.access, uaf.access());
        assertEquals("late", uaf.site().task());
    }

    /** A VMA lookup, and the name of its lock assertion. */
    enum Lookup {
        FIND_VMA(mm -> mm.findVma(0)),
        VMA_LOOKUP(mm -> mm.vmaLookup(0));

        final Consumer<MmStruct> call;

        Lookup(Consumer<MmStruct> call) {
            this.call = call;
        }
    }

    @ParameterizedTest
    @EnumSource(Lookup.class)
    void aVmaLookupWithoutTheMmapLock_isReported(Lookup lookup) {
        Kernel k = checkedKernel(2);
        Process.spawn(k, "proc", self -> lookup.call.accept(MmStruct.of(self)));
        Failure.InvariantViolation v = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
        assertTrue(v.detail().contains("mmap_assert_locked(mm#1)"), v.detail());
    }

    @Test
    void mmsAreNumberedPerKernel() {
        Kernel k = checkedKernel(1);
        MmStruct first = MmStruct.mmAlloc(k, RefHandle.mainContext(k));
        MmStruct second = MmStruct.mmAlloc(k, RefHandle.mainContext(k));
        assertEquals(1, first.id());
        assertEquals(2, second.id());
        assertEquals("mm#2", second.name());
    }

    @Test
    void mmgetNotZero_ofADeadAddressSpace_failsAndIsMarked() {
        Kernel k = checkedKernel(3);
        AtomicBoolean got = new AtomicBoolean(true);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            RefHandle pin = new RefHandle("late's pin");
            mm.mmgrabAs(pin);
            Task proc = self;
            k.spawnKthread("late", w -> {
                proc.join();
                got.set(mm.mmgetNotZero());
                mm.mmdropAs(pin);
            });
        });
        RunResult r = k.run();
        assertClean(r);
        assertFalse(got.get());
        assertTrue(r.hit(MmStruct.MMGET_NOT_ZERO_FAILED), r.marks()::toString);

        RunResult live = ItreeRuns.inProcess(4, mm -> {
            assertTrue(mm.mmgetNotZero());
            mm.mmput();
        });
        assertClean(live);
        assertFalse(live.hit(MmStruct.MMGET_NOT_ZERO_FAILED));
    }

    @Test
    void getTaskMm_ofAnExitedUserTask_isNullAndMarked() {
        Kernel k = checkedKernel(3);
        Task proc = Process.spawn(k, "proc", self -> { });
        AtomicBoolean wasNull = new AtomicBoolean();
        k.spawnKthread("late", w -> {
            proc.join();
            wasNull.set(MmStruct.getTaskMm(proc) == null);
        });
        RunResult r = k.run();
        assertClean(r);
        assertTrue(wasNull.get());
        assertTrue(r.hit(MmStruct.GET_TASK_MM_NULL), r.marks()::toString);
    }

    @Test
    void anUnpinnedAccessByAFencedWorker_isAllowedAndMarked() {
        Kernel k = checkedKernel(12);
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            MmuNotifier fence = new MmuNotifier("fence", new MmuNotifierOps() { });
            assertEquals(0, fence.register(mm));
            k.spawnKthread("worker", w -> mm.assertAddressSpacePinned("worker access"),
                    w -> mm.declareReleaseFence(w, fence)).join();
            fence.unregister(mm);
        });
        RunResult r = k.run();
        assertClean(r);
        assertTrue(r.hit(MmStruct.RELEASE_FENCE_ACCESS), r.marks()::toString);
    }

    /** Runs a body in a process of a checked kernel. */
    private static final class ItreeRuns {
        static RunResult inProcess(long seed, Consumer<MmStruct> body) {
            Kernel k = checkedKernel(seed);
            Process.spawn(k, "proc", self -> {
                MmStruct mm = MmStruct.of(self);
                Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ);
                body.accept(mm);
            });
            return k.run();
        }
    }
}
