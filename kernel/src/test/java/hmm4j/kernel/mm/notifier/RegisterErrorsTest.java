package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.FailSlab;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.sched.Signal;
import hmm4j.sim.RunResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The errors of {@code __mmu_notifier_register} (mm/mmu_notifier.c): {@code -ENOMEM} when the
 * first registration on an mm cannot allocate its subscriptions object, {@code -EINTR} when
 * {@code mm_take_all_locks} finds a signal pending; each leaves the mm as it was, and each
 * reaches the callers (register, interval insert, {@code mmu_notifier_get}).
 */
class RegisterErrorsTest {

    private static final MmuNotifierOps NOOP = new MmuNotifierOps() {
    };

    @Test
    void firstRegistration_withoutMemoryForTheSubscriptions_isEnomem_andLeavesTheMmUnchanged() {
        runClean(1, (k, mm, base) -> {
            int count0 = mm.mmCountPeek();
            MmuNotifier sub = new MmuNotifier("a", NOOP);
            FailSlab.failNext(k, MmuNotifierSubscriptions.SUBSCRIPTIONS_CACHE, 1);
            assertEquals(-Errno.ENOMEM, sub.register(mm));
            assertNull(mm.notifierSubscriptions(), "nothing published");
            assertFalse(sub.isLinked());
            assertEquals(count0, mm.mmCountPeek(), "no mmgrab");
            assertEquals(0, sub.register(mm), "the next try allocates");
            assertTrue(sub.isLinked());
            sub.unregister(mm);
        });
    }

    @Test
    void intervalInsert_withoutMemoryForTheSubscriptions_isEnomem() {
        runClean(2, (k, mm, base) -> {
            MmuIntervalNotifier sub = new MmuIntervalNotifier("i");
            MmuIntervalNotifierOps ops = (s, r, cur) -> {
                s.mmuIntervalSetSeq(cur);
                return true;
            };
            FailSlab.failNext(k, MmuNotifierSubscriptions.SUBSCRIPTIONS_CACHE, 1);
            assertEquals(-Errno.ENOMEM, sub.mmuIntervalNotifierInsert(mm, base, PAGE, ops));
            assertNull(mm.notifierSubscriptions());
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, ops));
            sub.mmuIntervalNotifierRemove();
        });
    }

    @Test
    void laterRegistrations_allocateNothing_andCannotFailWithEnomem() {
        runClean(3, (k, mm, base) -> {
            MmuNotifier a = new MmuNotifier("a", NOOP);
            MmuNotifier b = new MmuNotifier("b", NOOP);
            assertEquals(0, a.register(mm));
            FailSlab.failNext(k, MmuNotifierSubscriptions.SUBSCRIPTIONS_CACHE, 1);
            assertEquals(0, b.register(mm), "the subscriptions object exists: no kzalloc");
            b.unregister(mm);
            a.unregister(mm);
        });
    }

    @Test
    void aPendingSignal_interruptsMmTakeAllLocks_withEintr_forEveryCaller() {
        List<Integer> rets = new ArrayList<>();
        AtomicInteger freed = new AtomicInteger();
        AtomicInteger count = new AtomicInteger();
        RunResult r = runProcess(4, (k, mm, base) -> {
            MmuNotifier plain = new MmuNotifier("a", NOOP);
            assertEquals(0, Signal.kill(k.current(), Signal.SIGKILL));
            int count0 = mm.mmCountPeek();
            rets.add(plain.register(mm));
            assertFalse(plain.isLinked());
            assertNull(mm.notifierSubscriptions(), "the new subscriptions object is dropped");
            MmuIntervalNotifier interval = new MmuIntervalNotifier("i");
            rets.add(interval.mmuIntervalNotifierInsert(mm, base, PAGE, (s, rr, cur) -> true));
            ErrPtr<MmuNotifier> got = MmuNotifier.mmuNotifierGet(new MmuNotifierOps() {
                @Override
                public ErrPtr<MmuNotifier> allocNotifier(MmStruct m) {
                    return ErrPtr.of(new MmuNotifier("got", this));
                }

                @Override
                public void freeNotifier(MmuNotifier s) {
                    freed.incrementAndGet();
                }
            }, mm);
            rets.add(got.isErr() ? got.ptrErr() : 0);
            count.set(mm.mmCountPeek() - count0);
        });
        assertTrue(r.clean(), () -> r.failures().toString());
        assertEquals(List.of(-Errno.EINTR, -Errno.EINTR, -Errno.EINTR), rets);
        assertEquals(1, freed.get(), "mmu_notifier_get frees the notifier it allocated (free_notifier)");
        assertEquals(0, count.get(), "no mm_count pin taken");
    }

    @Test
    void withoutASignal_registrationOfTheSameProcessSucceeds() {
        runClean(5, (k, mm, base) -> {
            MmuNotifier plain = new MmuNotifier("a", NOOP);
            assertEquals(0, plain.register(mm));
            assertNotNull(mm.notifierSubscriptions());
            plain.unregister(mm);
        });
    }
}
