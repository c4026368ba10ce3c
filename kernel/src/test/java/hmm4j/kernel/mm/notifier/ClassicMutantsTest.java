package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.SpinLock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Classic-notifier behaviour that mutation testing found unchecked: the secondary-TLB
 * callback, the callback context left by {@code ->release}, the release fence ending with
 * the subscription, get/put's marks, locking and error paths, synchronize from a callback,
 * and unregister from a freed mm.
 */
class ClassicMutantsTest {

    /** Get/put ops whose subscriptions are plain (no container). */
    static class GetPut implements MmuNotifierOps {
        final List<String> log = new CopyOnWriteArrayList<>();

        @Override
        public ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
            return ErrPtr.of(new MmuNotifier("getput", this));
        }

        @Override
        public void freeNotifier(MmuNotifier subscription) {
            log.add("free " + subscription.name());
        }
    }

    @Test
    void archInvalidateSecondaryTlbs_callsTheCallbackWithTheRange_andLeavesItsContext() {
        runClean(1, (k, mm, base) -> {
            List<String> calls = new CopyOnWriteArrayList<>();
            MmuNotifier tlb = new MmuNotifier("tlb", new MmuNotifierOps() {
                @Override
                public void archInvalidateSecondaryTlbs(MmuNotifier s, MmStruct m, long start, long end) {
                    calls.add(s.name() + " " + (start - base) + ".." + (end - base));
                }
            });
            assertEquals(0, tlb.register(mm));
            MmuNotifierSubscriptions.archInvalidateSecondaryTlbs(mm, base, base + PAGE);
            assertEquals(List.of("tlb 0.." + PAGE), calls);
            tlb.unregister(mm); // asserts it is not called from inside a callback
        });
    }

    @Test
    void release_runByUnregister_leavesTheCallbackContext() {
        runClean(1, (k, mm, base) -> {
            MmuNotifier sub = new MmuNotifier("sub", new MmuNotifierOps() {
                @Override
                public void release(MmuNotifier s, MmStruct m) {
                }
            });
            assertEquals(0, sub.register(mm));
            assertFalse(sub.releaseReturned());
            sub.unregister(mm);
            assertTrue(sub.releaseReturned());
            MmuNotifier.mmuNotifierSynchronize(k); // reported if the task were still inside ->release
        });
    }

    @Test
    void synchronize_fromInsideACallback_isReported() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifier sub = new MmuNotifier("sub", new MmuNotifierOps() {
                @Override
                public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                    MmuNotifier.mmuNotifierSynchronize(k);
                }
            });
            sub.register(mm);
            Mmap.munmap(mm, base, PAGE);
            sub.unregister(mm);
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.NOT_FROM_CALLBACK, v.rule());
        assertTrue(v.detail().contains("mmu_notifier_synchronize"), v.detail());
    }

    @Test
    void aReleaseFence_endsWhenTheSubscriptionIsUnregistered() {
        Kernel k = checkedKernel(12);
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            MmuNotifier fence = new MmuNotifier("fence", new MmuNotifierOps() { });
            assertEquals(0, fence.register(mm));
            assertTrue(fence.fenceActive(mm));
            fence.unregister(mm);
            assertFalse(fence.fenceActive(mm));
            k.spawnKthread("worker", w -> mm.assertAddressSpacePinned("worker access"),
                    w -> mm.declareReleaseFence(w, fence)).join();
        });
        Failure.UnpinnedAddressSpaceUse f = assertSingleFailure(k.run(), Failure.UnpinnedAddressSpaceUse.class);
        assertEquals("worker access", f.operation());
        assertEquals("worker", f.site().task());
    }

    @Test
    void lastPut_freesFromAnSrcuCallback_andAnOrdinaryCallbackIsNotMarkedAfterPut() {
        GetPut ops = new GetPut() {
            @Override
            public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                log.add("start");
                return 0;
            }
        };
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifier sub = MmuNotifier.mmuNotifierGet(ops, mm).get();
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            r.invalidateRangeStart();
            r.invalidateRangeEnd();
            sub.mmuNotifierPut();
            MmuNotifier.mmuNotifierSynchronize(k);
        });
        assertClean(run);
        assertEquals(List.of("start", "free getput"), ops.log);
        assertTrue(run.hit(MmuNotifier.SRCU_FREE), run.marks()::toString);
        assertFalse(run.hit(MmuNotifier.CALLBACK_AFTER_PUT), run.marks()::toString);
    }

    @Test
    void aStartThatFoundTheSubscriptionBeforeItsLastPut_isMarked() {
        List<String> starts = new CopyOnWriteArrayList<>();
        RunResult run = runProcess(1, (k, mm, base) -> {
            Completion inBlocker = new Completion(k, "in blocker");
            Completion gate = new Completion(k, "gate");
            MmuNotifierOps late = new GetPut() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    starts.add("late start");
                    return 0;
                }
            };
            MmuNotifier sub = MmuNotifier.mmuNotifierGet(late, mm).get();
            MmuNotifier blocker = new MmuNotifier("blocker", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    inBlocker.complete();
                    gate.waitForCompletion();
                    return 0;
                }
            });
            assertEquals(0, blocker.register(mm)); // at the head: called before sub
            Task unmapper = Clone.cloneVm(k, "unmapper", self -> Mmap.munmap(mm, base, PAGE));
            inBlocker.waitForCompletion();
            sub.mmuNotifierPut();
            gate.complete();
            unmapper.join();
            blocker.unregister(mm);
            MmuNotifier.mmuNotifierSynchronize(k);
        });
        assertClean(run);
        assertEquals(List.of("late start"), starts);
        assertTrue(run.hit(MmuNotifier.CALLBACK_AFTER_PUT), run.marks()::toString);
    }

    @Test
    void mmuNotifierGet_underASpinlock_isReportedByItsOwnMightSleep() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            SpinLock lock = new SpinLock(k, "driver->lock");
            lock.lock();
            MmuNotifier.mmuNotifierGet(new GetPut(), mm);
            lock.unlock();
        });
        Failure.SleepInAtomic f = assertSingleFailure(run, Failure.SleepInAtomic.class);
        assertEquals("mmu_notifier_get", f.operation());
    }

    @Test
    void getLocked_withoutTheMmapLock_isReportedEvenWhenItFindsTheSubscription() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            GetPut ops = new GetPut();
            MmuNotifier.mmuNotifierGet(ops, mm).get();
            MmuNotifier.mmuNotifierGetLocked(ops, mm);
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
        assertTrue(v.detail().contains("mmap_assert_write_locked"), v.detail());
    }

    @Test
    void get_whoseRegistrationIsRefused_freesTheNewSubscription_andReturnsTheError() {
        runClean(1, (k, mm, base) -> {
            GetPut refused = new GetPut() {
                @Override
                public void archInvalidateSecondaryTlbs(MmuNotifier s, MmStruct m, long start, long end) {
                }

                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    return 0;
                }
            };
            ErrPtr<MmuNotifier> r = MmuNotifier.mmuNotifierGet(refused, mm);
            assertTrue(r.isErr());
            assertEquals(-Errno.EINVAL, r.ptrErr());
            assertEquals(List.of("free getput"), refused.log);
        });
    }

    @Test
    void unregister_fromAnMmAlreadyFreed_isReported() {
        Kernel k = checkedKernel(4);
        AtomicReference<MmStruct> mmRef = new AtomicReference<>();
        MmuNotifier sub = new MmuNotifier("sub", new MmuNotifierOps() { });
        Task proc = Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            mmRef.set(mm);
            sub.register(mm);
            sub.unregisterNoRelease(mm); // drops the pin: nothing keeps the mm after exit
        });
        k.spawnKthread("driver", self -> {
            proc.join();
            sub.unregister(mmRef.get());
        });
        Failure.InvariantViolation v = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(KernelRules.UNREGISTER_ON_GRABBED_MM, v.rule());
        assertTrue(v.detail().startsWith("BUG_ON(mm_count <= 0): sub unregistered from"), v.detail());
    }

    @Test
    void unregisterNoRelease_unlinksAndDropsThePin_withoutCallingRelease() {
        runClean(1, (k, mm, base) -> {
            List<String> calls = new CopyOnWriteArrayList<>();
            MmuNotifier sub = new MmuNotifier("sub", new MmuNotifierOps() {
                @Override
                public void release(MmuNotifier s, MmStruct m) {
                    calls.add("release");
                }
            });
            int count0 = mm.mmCountPeek();
            assertEquals(0, sub.register(mm));
            sub.unregisterNoRelease(mm);
            assertFalse(sub.isLinked());
            assertFalse(mm.notifierSubscriptions().subscriptions().contains(sub));
            assertEquals(count0, mm.mmCountPeek());
            assertEquals(List.of(), calls);
        });
    }
}
