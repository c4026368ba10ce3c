package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@code struct mmu_notifier_range} behaviour that mutation testing found unchecked: the
 * half-open overlap test, the flags a start leaves, the section count after a failed
 * non-blocking start and after an end (a later registration must not see a section in
 * flight), a start paired by its end, and a start twice.
 */
class RangeMutantsTest {

    private static final MmuNotifierOps ANY = new MmuNotifierOps() { };

    @Test
    void overlaps_isAHalfOpenIntervalTest() {
        runClean(1, (k, mm, base) -> {
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            assertTrue(r.overlaps(base, base + 1));
            assertTrue(r.overlaps(base + PAGE - 1, base + PAGE));
            assertTrue(r.overlaps(base - PAGE, base + 2 * PAGE));
            assertFalse(r.overlaps(base + PAGE, base + 2 * PAGE), "touching at the end");
            assertFalse(r.overlaps(base - PAGE, base), "touching at the start");
        });
    }

    @Test
    void aStart_setsOrClearsOnlyTheBlockableFlag_andTheCallbacksSeeIt() {
        runClean(1, (k, mm, base) -> {
            List<Boolean> seen = new CopyOnWriteArrayList<>();
            MmuNotifier sub = new MmuNotifier("sub", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    seen.add(r.blockable());
                    return 0;
                }
            });
            assertEquals(0, sub.register(mm));
            MmuNotifierRange blocking = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            blocking.invalidateRangeStart();
            assertEquals(MmuNotifierRange.MMU_NOTIFIER_RANGE_BLOCKABLE, blocking.flags());
            blocking.invalidateRangeEnd();
            MmuNotifierRange nonblock = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR,
                    MmuNotifierRange.MMU_NOTIFIER_RANGE_BLOCKABLE, mm, base, base + PAGE);
            assertEquals(0, nonblock.invalidateRangeStartNonblock());
            assertEquals(0, nonblock.flags());
            nonblock.invalidateRangeEnd(); // paired: the non-blocking start began the section
            assertEquals(List.of(true, false), seen);
            // Every section ended: registering now must not find one in flight.
            MmuNotifier late = new MmuNotifier("late", ANY);
            assertEquals(0, late.register(mm));
            late.unregister(mm);
            sub.unregister(mm);
        });
    }

    @Test
    void aFailedNonblockStart_endsItsSection_soALaterRegistrationIsClean() {
        runClean(1, (k, mm, base) -> {
            MmuNotifier busy = new MmuNotifier("busy", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    return r.blockable() ? 0 : -Errno.EAGAIN;
                }
            });
            assertEquals(0, busy.register(mm));
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            assertEquals(-Errno.EAGAIN, r.invalidateRangeStartNonblock());
            MmuNotifier late = new MmuNotifier("late", ANY);
            assertEquals(0, late.register(mm));
            late.unregister(mm);
            busy.unregister(mm);
        });
    }

    @Test
    void aStartTwiceWithoutAnEnd_isReported() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            r.invalidateRangeStart();
            r.invalidateRangeStart();
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.END_PAIRS_START, v.rule());
        assertTrue(v.detail().contains("already started and not ended"), v.detail());
    }

    @Test
    void aRegistrationWhileASectionIsInFlight_isReportedWithTheCount() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            r.invalidateRangeStart();
            new MmuNotifier("late", ANY).register(mm);
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.NO_REGISTER_IN_SECTION, v.rule());
        assertTrue(v.detail().startsWith("1 invalidate_range_start/end section(s) in flight on mm#1 while registering late"),
                v.detail());
    }

    @Test
    void theEndOfABlockableRange_mightSleep_theEndOfANonblockOneDoesNot() {
        runClean(1, (k, mm, base) -> {
            SpinLock lock = new SpinLock(k, "driver->lock");
            MmuNotifier sub = new MmuNotifier("sub", ANY);
            sub.register(mm);
            MmuNotifierRange nonblock = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            assertEquals(0, nonblock.invalidateRangeStartNonblock());
            lock.lock();
            nonblock.invalidateRangeEnd();
            lock.unlock();
            sub.unregister(mm);
        });
        RunResult run = runProcess(1, (k, mm, base) -> {
            SpinLock lock = new SpinLock(k, "driver->lock");
            MmuNotifier sub = new MmuNotifier("sub", ANY);
            sub.register(mm);
            MmuNotifierRange blocking = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            blocking.invalidateRangeStart();
            lock.lock();
            blocking.invalidateRangeEnd();
            lock.unlock();
        });
        Failure.SleepInAtomic f = assertSingleFailure(run, Failure.SleepInAtomic.class);
        assertEquals("mmu_notifier_invalidate_range_end", f.operation());
    }
}
