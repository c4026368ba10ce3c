package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.SEEDS;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Interval subscriptions over a whole mm lifetime: insert errors and context rules, the
 * RELEASE then UNMAP invalidations at exit with the subscription staying in the tree,
 * remove after exit dropping the last structure reference, remove from a callback, and a
 * concurrent stress over many seeds checking invariants I-13, I-14, I-15 and I-19.
 */
class IntervalLifecycleTest {

    @Test
    void insert_rejectsAnEmptyOrWrappingRange_withoutTakingAReference() {
        runClean(1, (k, mm, base) -> {
            int count0 = mm.mmCountPeek();
            assertEquals(-Errno.EOVERFLOW, new MmuIntervalNotifier("empty").mmuIntervalNotifierInsert(mm, base, 0,
                    (s, r, q) -> true));
            assertEquals(-Errno.EOVERFLOW, new MmuIntervalNotifier("wrap").mmuIntervalNotifierInsert(mm, -PAGE,
                    2 * PAGE, (s, r, q) -> true));
            assertEquals(count0, mm.mmCountPeek());
            assertTrue(mm.notifierSubscriptions().hasItree(), "interval mode was enabled by the first insert");
        });
    }

    @Test
    void insert_coversStartToStartPlusLengthMinusOne_itsLastPageIsHit_andThePagesAroundItAreNot() {
        runClean(1, (k, mm, base) -> {
            List<String> hits = new CopyOnWriteArrayList<>();
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            assertEquals(0, a.mmuIntervalNotifierInsert(mm, base + PAGE, 2 * PAGE, (s, r, seq) -> {
                hits.add("page " + (r.start() - base) / PAGE);
                s.mmuIntervalSetSeq(seq);
                return true;
            }));
            assertEquals(base + PAGE, a.start());
            assertEquals(base + 3 * PAGE - 1, a.last());
            for (int page : new int[] {3, 0, 2, 1}) {
                MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm,
                        base + page * PAGE, base + (page + 1) * PAGE);
                r.invalidateRangeStart();
                r.invalidateRangeEnd();
            }
            assertEquals(List.of("page 2", "page 1"), hits, "the page after and the page before are outside");
            a.mmuIntervalNotifierRemove();
        });
    }

    @Test
    void aSecondInsertOfAnInsertedSubscription_isReportedAtTheInsert() {
        var run = runProcess(2, (k, mm, base) -> {
            MmuIntervalNotifier sub = new MmuIntervalNotifier("A");
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, q) -> true));
            sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, q) -> true);
            throw new AssertionError("the second insert must not return");
        });
        Failure.InvariantViolation v = (Failure.InvariantViolation) run.failures().get(0);
        assertEquals(KernelRules.INSERT_PAIRS_REMOVE, v.rule());
        assertTrue(v.detail().contains("already inserted"), v.detail());
    }

    @Test
    void insertLocked_assertsTheWriteLock() {
        var run = runProcess(1, (k, mm, base) -> {
            new MmuIntervalNotifier("A").mmuIntervalNotifierInsertLocked(mm, base, PAGE, (s, r, q) -> true);
        });
        assertTrue(run.failures().stream().anyMatch(f -> f.headline().contains("mmap_assert_write_locked")
                || f.details().toString().contains("mmap_assert_write_locked")), () -> run.failures().toString());
    }

    @Test
    void insertFromAKthreadWithoutMmget_isReportedByThePinRule() {
        Kernel k = checkedKernel(3);
        AtomicReference<MmStruct> mmRef = new AtomicReference<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            mmRef.set(mm);
            mm.mmgrab();
            k.spawnKthread("worker", w -> {
                new MmuIntervalNotifier("A").mmuIntervalNotifierInsert(mm, 0x100000, PAGE, (s, r, q) -> true);
            }).join();
        });
        var run = k.run();
        assertTrue(run.failures().stream().anyMatch(f -> f instanceof Failure.UnpinnedAddressSpaceUse),
                () -> run.failures().toString());
    }

    @Test
    void exit_deliversReleaseThenUnmap_theSubscriptionStays_andRemoveAfterExitFreesTheMm() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            List<String> log = new CopyOnWriteArrayList<>();
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            AtomicReference<MmStruct> mmRef = new AtomicReference<>();
            var proc = Process.spawn(k, "proc", self -> {
                MmStruct mm = MmStruct.of(self);
                mmRef.set(mm);
                long base = Mmap.mmapAnonymous(mm, 4 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                assertEquals(0, UserAccess.copyToUser(k, base, new byte[] {1, 2, 3}));
                a.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, (s, r, seq) -> {
                    s.mmuIntervalSetSeq(seq);
                    log.add(r.event() + " blockable=" + r.blockable() + " [" + Long.toHexString(r.start()) + ", "
                            + Long.toHexString(r.end()) + ") seq=" + seq);
                    return true;
                });
            });
            k.spawnKthread("driver-teardown", self -> {
                proc.join();
                MmStruct mm = mmRef.get();
                assertEquals(MmState.DEAD, mm.mmState());
                assertTrue(a.isInTree(), "subscriptions stay in the tree after exit");
                a.mmuIntervalNotifierRemove();
                assertEquals(MmState.FREED, mm.mmState(), "remove dropped the last mm_count");
            });
            assertClean(k.run());
            assertEquals(List.of("MMU_NOTIFY_RELEASE blockable=true [0, ffffffffffffffff) seq=3",
                    "MMU_NOTIFY_UNMAP blockable=true [0, ffffffffffffffff) seq=5"), log, "seed " + seed);
        }
    }

    @Test
    void removeFromInsideInvalidate_isReported() {
        var run = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            a.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> {
                s.mmuIntervalNotifierRemove();
                return true;
            });
            Mmap.munmap(mm, base, PAGE);
        });
        assertTrue(run.failures().stream().anyMatch(f -> f instanceof Failure.InvariantViolation iv
                && iv.rule().equals(KernelRules.NOT_FROM_CALLBACK)), () -> run.failures().toString());
    }

    @Test
    void readBeginUnderALockTheCallbackTakes_isALockdepCycle() {
        var run = runProcess(1, (k, mm, base) -> {
            var driverLock = new hmm4j.sim.sync.Mutex(k, "driver->lock");
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            a.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> {
                driverLock.lock();
                s.mmuIntervalSetSeq(seq);
                driverLock.unlock();
                return true;
            });
            Mmap.munmap(mm, base, PAGE);
            driverLock.lock();
            a.mmuIntervalReadBegin();
            driverLock.unlock();
        });
        assertTrue(run.failures().stream().anyMatch(f -> f instanceof Failure.LockOrderCycle),
                () -> run.failures().toString());
    }

    /**
     * The kernel's {@code mmu_interval_notifier_insert} annotates {@code might_lock(mmap_lock)}
     * on every call: a second insert (interval mode already on, so no mmap lock is taken) under
     * a lock that is elsewhere taken inside the mmap lock is still a lock-order report. The
     * same insert without that lock held is clean.
     */
    @Test
    void aLaterInsertUnderALockTakenInsideTheMmapLock_isALockdepCycle() {
        for (boolean underDriverLock : new boolean[] {true, false}) {
            var run = runProcess(1, (k, mm, base) -> {
                var driverLock = new hmm4j.sim.sync.Mutex(k, "driver->lock");
                MmuIntervalNotifier a = new MmuIntervalNotifier("A");
                assertEquals(0, a.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> true));
                assertTrue(mm.notifierSubscriptions().hasItree());
                mm.mmapReadLock();
                driverLock.lock();
                driverLock.unlock();
                mm.mmapReadUnlock();
                MmuIntervalNotifier b = new MmuIntervalNotifier("B");
                if (underDriverLock) {
                    driverLock.lock();
                }
                assertEquals(0, b.mmuIntervalNotifierInsert(mm, base + PAGE, PAGE, (s, r, seq) -> true));
                if (underDriverLock) {
                    driverLock.unlock();
                }
                b.mmuIntervalNotifierRemove();
                a.mmuIntervalNotifierRemove();
            });
            if (underDriverLock) {
                assertEquals(1, run.failures().size(), () -> run.failures().toString());
                assertTrue(run.failures().get(0) instanceof Failure.LockOrderCycle, () -> run.failures().toString());
                assertTrue(run.failures().get(0).toString().contains("driver->lock"), () -> run.failures().toString());
            } else {
                assertClean(run);
            }
        }
    }

    /**
     * On the native runtime every failure of a run is collected, so both end-of-run checks
     * show: the subscription's leaked structure reference and the whole-model interval check.
     */
    @Test
    void anInvalidationNeverEnded_isReportedAtQuiescenceByTheWholeModelCheck() {
        Kernel k = Kernel.nativeRuntime();
        hmm4j.check.Checkers.install(k);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            new MmuIntervalNotifier("A").mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, q) -> {
                s.mmuIntervalSetSeq(q);
                return true;
            });
            mm.mmapReadLock();
            new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE).invalidateRangeStart();
            mm.mmapReadUnlock();
        });
        var run = k.run();
        var iv = run.failures().stream().filter(f -> f instanceof Failure.InvariantViolation)
                .map(Failure.InvariantViolation.class::cast)
                .filter(f -> f.rule().equals(KernelRules.QUIESCENT_STATE)).findFirst()
                .orElseThrow(() -> new AssertionError("no quiescence report in " + run.failures()));
        assertTrue(iv.detail().contains("still active") && iv.detail().contains("odd"), iv.detail());
    }

    /**
     * Several threads insert, remove and invalidate overlapping ranges concurrently; at every
     * step a checker task samples the state. After each remove the subscription is neither in
     * the tree nor deferred (I-19); whenever no invalidation is active the global seq is even
     * and the deferred list empty (I-13, I-14); a subscription's seq is always odd (I-15).
     */
    @Test
    void concurrentInsertRemoveInvalidate_keepsTheSequenceInvariants() {
        for (long seed = 1; seed <= 60; seed++) {
            long s = seed;
            List<String> violations = new CopyOnWriteArrayList<>();
            var run = runProcess(seed, (k, mm, base) -> {
                List<hmm4j.sim.Task> threads = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    int id = t;
                    threads.add(Clone.cloneVm(k, "sub" + t, self -> {
                        SplittableRandom rnd = new SplittableRandom(s * 31 + id);
                        for (int i = 0; i < 3; i++) {
                            MmuIntervalNotifier n = new MmuIntervalNotifier("n" + id + "." + i);
                            long start = base + rnd.nextInt(8) * PAGE;
                            n.mmuIntervalNotifierInsert(mm, start, (1 + rnd.nextInt(4)) * PAGE, (x, r, q) -> {
                                x.mmuIntervalSetSeq(q);
                                return true;
                            });
                            if ((n.seqPeek() & 1) == 0) {
                                violations.add("even subscription seq " + n.seqPeek());
                            }
                            long seq = n.mmuIntervalReadBegin();
                            n.mmuIntervalReadRetry(seq);
                            n.mmuIntervalNotifierRemove();
                            if (n.isInTree() || n.isDeferred()) {
                                violations.add(n.name() + " still linked after remove");
                            }
                        }
                    }));
                }
                for (int t = 0; t < 2; t++) {
                    int id = t;
                    threads.add(Clone.cloneVm(k, "inv" + t, self -> {
                        SplittableRandom rnd = new SplittableRandom(s * 17 + id);
                        for (int i = 0; i < 4; i++) {
                            long start = base + rnd.nextInt(12) * PAGE;
                            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, start,
                                    start + (1 + rnd.nextInt(3)) * PAGE);
                            mm.mmapReadLock();
                            r.invalidateRangeStart();
                            sample(mm, violations);
                            r.invalidateRangeEnd();
                            mm.mmapReadUnlock();
                            sample(mm, violations);
                        }
                    }));
                }
                for (var t : threads) {
                    t.join();
                }
                sample(mm, violations);
                assertEquals(0, mm.notifierSubscriptions().itree().treePeek().size(), "every subscription removed");
            });
            assertClean(run);
            assertTrue(violations.isEmpty(), "seed " + seed + ": " + violations);
        }
    }

    private static void sample(MmStruct mm, List<String> violations) {
        MmuNotifierSubscriptions subs = mm.notifierSubscriptions();
        assertNotNull(subs);
        subs.lock().lock();
        try {
            long seq = subs.invalidateSeq();
            long active = subs.activeInvalidateRanges();
            int deferred = subs.itree().deferredPeek();
            if (active == 0 && (seq & 1) != 0) {
                violations.add("I-13: seq " + seq + " odd with no active invalidation");
            }
            if ((seq & 1) == 0 && deferred != 0) {
                violations.add("I-14: " + deferred + " deferred with an even seq");
            }
        } finally {
            subs.lock().unlock();
        }
        assertFalse(violations.size() > 100);
    }
}
