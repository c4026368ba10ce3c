package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.Mmap;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Interval-notifier behaviour that mutation testing found unchecked: the locked insert on an
 * mm not yet in interval mode and on one already in it, a one-byte interval, the lockdep
 * check of remove, the read-retry mark, and the accessors.
 */
class IntervalMutantsTest {

    private static final MmuIntervalNotifierOps SET_SEQ = (s, r, seq) -> {
        s.mmuIntervalSetSeq(seq);
        return true;
    };

    @Test
    void insertLocked_underTheMmapWriteLock_enablesIntervalMode_andBothInsertsAreInvalidated() {
        runClean(1, (k, mm, base) -> {
            List<String> hits = new CopyOnWriteArrayList<>();
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            MmuIntervalNotifier b = new MmuIntervalNotifier("B");
            MmuIntervalNotifierOps record = (s, r, seq) -> {
                hits.add(s.name());
                s.mmuIntervalSetSeq(seq);
                return true;
            };
            mm.mmapWriteLock();
            assertEquals(0, a.mmuIntervalNotifierInsertLocked(mm, base, PAGE, record));
            assertTrue(mm.notifierSubscriptions().hasItree());
            assertEquals(0, b.mmuIntervalNotifierInsertLocked(mm, base + PAGE, PAGE, record));
            mm.mmapWriteUnlock();
            assertSame(mm, a.mm());
            assertSame(record, b.ops());
            assertEquals(0, Mmap.munmap(mm, base, 2 * PAGE));
            assertEquals(List.of("A", "B"), hits.stream().sorted().toList());
            a.mmuIntervalNotifierRemove();
            b.mmuIntervalNotifierRemove();
        });
    }

    @Test
    void aOneByteInterval_isValid_andCoversItsPage() {
        runClean(1, (k, mm, base) -> {
            MmuIntervalNotifier one = new MmuIntervalNotifier("one");
            assertEquals(0, one.mmuIntervalNotifierInsert(mm, base + 5, 1, SET_SEQ));
            assertEquals(base + 5, one.start());
            assertEquals(base + 5, one.last());
            long before = one.seqPeek();
            assertEquals(0, Mmap.munmap(mm, base, PAGE));
            assertTrue(one.seqPeek() != before, "the invalidation of its page called it");
            one.mmuIntervalNotifierRemove();
        });
    }

    /** The driver object an interval subscription is embedded in. */
    static final class Mirror extends KObject {
        Mirror(Kernel k) {
            super(k, "mirror");
        }
    }

    @Test
    void accessors_returnWhatTheSubscriptionWasBuiltWith() {
        runClean(1, (k, mm, base) -> {
            Mirror m = new Mirror(k);
            MmuIntervalNotifier sub = new MmuIntervalNotifier(m, "sub");
            assertSame(m, sub.container());
            assertNull(sub.mm());
            assertEquals("sub", sub.mmRef().name());
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ));
            assertTrue(mm.countLedger().holds(sub.mmRef()), "insert pins the mm under the subscription's handle");
            sub.mmuIntervalNotifierRemove();
            assertFalse(mm.countLedger().holds(sub.mmRef()));
        });
    }

    @Test
    void remove_underALockTheCallbackTakes_isALockdepCycle() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            Mutex driverLock = new Mutex(k, "driver->lock");
            MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> {
                driverLock.lock();
                s.mmuIntervalSetSeq(seq);
                driverLock.unlock();
                return true;
            }));
            assertEquals(0, Mmap.munmap(mm, base, PAGE));
            driverLock.lock();
            sub.mmuIntervalNotifierRemove();
            driverLock.unlock();
        });
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, run.firstFailure().orElseThrow(),
                run.failures().toString());
        assertEquals("driver->lock", c.held());
        assertEquals("mmu_notifier_invalidate_range_start", c.acquiring());
    }

    @Test
    void aCollidingInvalidation_makesReadRetryTrue_andIsMarked() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ));
            long seq = sub.mmuIntervalReadBegin();
            assertFalse(sub.mmuIntervalReadRetry(seq));
            assertEquals(0, Mmap.munmap(mm, base, PAGE));
            assertTrue(sub.mmuIntervalCheckRetry(seq));
            assertTrue(sub.mmuIntervalReadRetry(seq));
            sub.mmuIntervalNotifierRemove();
        });
        assertTrue(run.clean(), run.failures().toString());
        assertTrue(run.hit(MmuIntervalNotifier.READ_RETRY), run.marks()::toString);
        RunResult quiet = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ));
            assertFalse(sub.mmuIntervalReadRetry(sub.mmuIntervalReadBegin()));
            sub.mmuIntervalNotifierRemove();
        });
        assertTrue(quiet.clean(), quiet.failures().toString());
        assertFalse(quiet.hit(MmuIntervalNotifier.READ_RETRY));
    }

    @Test
    void insertLocked_duringASectionInFlight_onAnMmInIntervalMode_doesNotRegisterAgain() {
        runClean(1, (k, mm, base) -> {
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            assertEquals(0, a.mmuIntervalNotifierInsert(mm, base, PAGE, SET_SEQ));
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            r.invalidateRangeStart();
            MmuIntervalNotifier b = new MmuIntervalNotifier("B");
            mm.mmapWriteLock();
            // A registration here would be reported (a section is in flight); an insert is not.
            assertEquals(0, b.mmuIntervalNotifierInsertLocked(mm, base + PAGE, PAGE, SET_SEQ));
            assertEquals(-hmm4j.kernel.mm.Errno.EOVERFLOW,
                    new MmuIntervalNotifier("empty").mmuIntervalNotifierInsertLocked(mm, base, 0, SET_SEQ));
            mm.mmapWriteUnlock();
            r.invalidateRangeEnd();
            a.mmuIntervalNotifierRemove();
            b.mmuIntervalNotifierRemove();
        });
    }
}
