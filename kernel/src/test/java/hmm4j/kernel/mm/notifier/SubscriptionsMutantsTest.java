package hmm4j.kernel.mm.notifier;

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
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@code mmu_notifier_subscriptions} behaviour that mutation testing found unchecked: interval
 * mode enabled on an mm that already has classic subscribers, the two reports of a failing
 * {@code invalidate_range_start}, and the exit-release coverage mark.
 */
class SubscriptionsMutantsTest {

    @Test
    void anIntervalInsert_onAnMmWithOnlyClassicSubscribers_enablesIntervalMode_andIsInvalidated() {
        runClean(1, (k, mm, base) -> {
            MmuNotifier classic = new MmuNotifier("classic", new MmuNotifierOps() { });
            assertEquals(0, classic.register(mm));
            assertFalse(mm.notifierSubscriptions().hasItree(), "a classic registration does not enable interval mode");
            List<Long> hits = new CopyOnWriteArrayList<>();
            MmuIntervalNotifier sub = new MmuIntervalNotifier("interval");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> {
                hits.add(r.start());
                s.mmuIntervalSetSeq(seq);
                return true;
            }));
            assertTrue(mm.notifierSubscriptions().hasItree());
            assertEquals(0, Mmap.munmap(mm, base, PAGE));
            assertEquals(List.of(base), hits);
            sub.mmuIntervalNotifierRemove();
            classic.unregister(mm);
        });
    }

    @Test
    void aBlockableStartThatFails_isReported() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifier bad = new MmuNotifier("bad", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    return -Errno.EAGAIN;
                }
            });
            bad.register(mm);
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            range.invalidateRangeStart();
            range.invalidateRangeEnd();
            bad.unregister(mm);
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.ONLY_NONBLOCK_START_FAILS, v.rule());
        assertTrue(v.detail().startsWith("bad returned " + -Errno.EAGAIN), v.detail());
    }

    @Test
    void aNonblockStartThatFails_whileImplementingEnd_isReported() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifier both = new MmuNotifier("both", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    return r.blockable() ? 0 : -Errno.EAGAIN;
                }

                @Override
                public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                }
            });
            both.register(mm);
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            assertEquals(-Errno.EAGAIN, range.invalidateRangeStartNonblock());
            both.unregister(mm);
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.FALLIBLE_START_NO_END, v.rule());
        assertTrue(v.detail().contains("both failed invalidate_range_start"), v.detail());
    }

    @Test
    void exitReleasingARegisteredSubscription_hitsTheExitReleaseMark_andAnUnregisteredOneDoesNot() {
        Kernel k = checkedKernel(1);
        MmuNotifierOps putOnRelease = new MmuNotifierOps() {
            @Override
            public ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
                return ErrPtr.of(new MmuNotifier("kept", this));
            }

            @Override
            public void release(MmuNotifier s, MmStruct mm) {
                s.mmuNotifierPut(); // the last put, from ->release at exit
            }
        };
        Process.spawn(k, "proc", self -> MmuNotifier.mmuNotifierGet(putOnRelease, MmStruct.of(self)).get());
        RunResult kept = k.run();
        assertTrue(kept.clean(), kept.failures().toString());
        assertTrue(kept.hit(MmuNotifier.RELEASE_FROM_EXIT), kept.marks()::toString);

        Kernel k2 = checkedKernel(1);
        Process.spawn(k2, "proc", self -> {
            MmuNotifier gone = new MmuNotifier("gone", new MmuNotifierOps() { });
            gone.register(MmStruct.of(self));
            gone.unregister(MmStruct.of(self));
        });
        RunResult unregistered = k2.run();
        assertTrue(unregistered.clean(), unregistered.failures().toString());
        assertFalse(unregistered.hit(MmuNotifier.RELEASE_FROM_EXIT), unregistered.marks()::toString);
    }
}
