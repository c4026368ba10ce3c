package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Pte;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.SpinLock;
import org.junit.jupiter.api.Test;

/**
 * A sleep in a non-blockable interval callback: the kernel runs interval callbacks outside
 * {@code non_block_start} ({@code mn_itree_invalidate}) and prints no might_sleep splat, so hmm4j
 * reports it under its own rule, {@code interval.nonblockable-sleep}, with the kernel's symptom;
 * the kernel's own "sleeping function called from invalid context" stays for classic callbacks
 * (inside {@code non_block_start}) and for real atomic context.
 */
class IntervalNonblockSleepTest {

    private static final long PAGE = Pte.PAGE_SIZE;

    @Test
    void sleepingInANonBlockableIntervalCallback_isHmm4jsOwnRule_notTheKernelsSplat() {
        var run = runProcess(1, (k, mm, base) -> {
            Mutex driverLock = new Mutex(k, "driver->lock");
            MmuIntervalNotifier sub = new MmuIntervalNotifier("sleepy");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, cur) -> {
                driverLock.lock();
                s.mmuIntervalSetSeq(cur);
                driverLock.unlock();
                return true;
            }));
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            if (range.invalidateRangeStartNonblock() == 0) {
                range.invalidateRangeEnd();
            }
            sub.mmuIntervalNotifierRemove();
        });
        Failure.InvariantViolation f = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.INTERVAL_NONBLOCK_SLEEP, f.rule());
        assertTrue(f.rule().isOwn(), "hmm4j's rule, not a kernel check");
        assertTrue(f.detail().startsWith("blocking in a non-blockable invalidation: the OOM reaper would stall here"),
                f.detail());
        assertTrue(f.detail().contains("sleepy->invalidate") && f.detail().contains("mutex_lock"), f.detail());
    }

    @Test
    void theSameCallbackInABlockableRange_isClean() {
        assertClean(runProcess(2, (k, mm, base) -> {
            Mutex driverLock = new Mutex(k, "driver->lock");
            MmuIntervalNotifier sub = new MmuIntervalNotifier("sleepy");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, cur) -> {
                driverLock.lock();
                s.mmuIntervalSetSeq(cur);
                driverLock.unlock();
                return true;
            }));
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            range.invalidateRangeStart();
            range.invalidateRangeEnd();
            sub.mmuIntervalNotifierRemove();
        }));
    }

    @Test
    void aTrylockInANonBlockableIntervalCallback_isClean() {
        assertClean(runProcess(3, (k, mm, base) -> {
            Mutex driverLock = new Mutex(k, "driver->lock");
            MmuIntervalNotifier sub = new MmuIntervalNotifier("careful");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, cur) -> {
                if (!driverLock.trylock()) {
                    return false;
                }
                s.mmuIntervalSetSeq(cur);
                driverLock.unlock();
                return true;
            }));
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            if (range.invalidateRangeStartNonblock() == 0) {
                range.invalidateRangeEnd();
            }
            sub.mmuIntervalNotifierRemove();
        }));
    }

    @Test
    void sleepingUnderASpinlockInsideANonBlockableIntervalCallback_isStillTheKernelsSleepInAtomic() {
        var run = runProcess(4, (k, mm, base) -> {
            SpinLock spin = new SpinLock(k, "driver->spin");
            Mutex driverLock = new Mutex(k, "driver->lock");
            MmuIntervalNotifier sub = new MmuIntervalNotifier("spinny");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, cur) -> {
                spin.lock();
                driverLock.lock();
                driverLock.unlock();
                spin.unlock();
                s.mmuIntervalSetSeq(cur);
                return true;
            }));
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            if (range.invalidateRangeStartNonblock() == 0) {
                range.invalidateRangeEnd();
            }
            sub.mmuIntervalNotifierRemove();
        });
        Failure.SleepInAtomic f = assertSingleFailure(run, Failure.SleepInAtomic.class);
        assertTrue(f.context().contains("spinlock"), f.context());
    }
}
