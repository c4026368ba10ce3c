package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.H19Bed.PAGE;
import static hmm4j.kernel.mm.hmm2019.H19Bed.PAGES;
import static hmm4j.kernel.mm.hmm2019.H19Bed.SEEDS;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V52;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V53;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V54;
import static hmm4j.kernel.mm.hmm2019.H19Bed.mirror;
import static hmm4j.kernel.mm.hmm2019.H19Bed.range;
import static hmm4j.kernel.mm.hmm2019.H19Bed.run;
import static hmm4j.kernel.mm.hmm2019.Hmm2019MirrorTest.assertRule;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;
import hmm4j.sim.rule.SimRules;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * hmm_range_register/unregister, hmm_range_wait_until_valid, hmm_range_valid,
 * hmm_range_snapshot and hmm_range_fault, per version, with their error codes and misuses.
 */
class Hmm2019RangeTest {

    @Test
    void register_validAndOnTheList_unregisterDropsItsReferences_eachVersion() {
        for (Hmm2019Config c : List.of(V52, V53, V54)) {
            for (long seed : SEEDS) {
                assertClean(run(seed, c, (k, mm, base) -> {
                    HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
                    Hmm2019 h = m.hmm();
                    int users0 = mm.mmUsersPeek();
                    HmmRange2019 r = range(k, mm, m, "r", base, PAGES);
                    assertTrue(r.isRegistered());
                    assertTrue(r.validPeek(), "valid when no invalidation is in flight");
                    assertSame(h, r.hmmPeek());
                    assertEquals(1, h.rangeCountPeek());
                    if (!c.has(Hmm2019Patch.GET)) {
                        assertTrue(h.krefLedger().holds(r.handle()), "a range holds a kref on the hmm");
                    }
                    assertEquals(c.has(Hmm2019Patch.P07) ? users0 + 1 : users0, mm.mmUsersPeek(),
                            c + ": v5.3 ranges hold mm_users (P07)");
                    r.unregister();
                    assertFalse(r.isRegistered());
                    assertFalse(r.validPeek());
                    assertEquals(0, h.rangeCountPeek());
                    assertEquals(users0, mm.mmUsersPeek());
                    m.unregister();
                }));
            }
        }
    }

    @Test
    void register_misalignedOrEmpty_isEinval() {
        for (Hmm2019Config c : List.of(V52, V53)) {
            assertClean(run(1, c, (k, mm, base) -> {
                HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
                HmmRange2019 bad = new HmmRange2019(k, "bad", base + 1, base + PAGE, new long[1]);
                assertEquals(-Errno.EINVAL, H19Bed.register(bad, mm, m));
                HmmRange2019 empty = new HmmRange2019(k, "empty", base, base, new long[1]);
                assertEquals(-Errno.EINVAL, H19Bed.register(empty, mm, m));
                m.unregister();
            }));
        }
    }

    @Test
    void register_theWrongSignatureForTheVersion_isAnApiMisuse() {
        assertClean(run(1, V53, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = new HmmRange2019(k, "r", base, base + PAGE, new long[1]);
            assertThrows(IllegalStateException.class, () -> r.register(mm, base, base + PAGE, Pte.PAGE_SHIFT));
            m.unregister();
        }));
    }

    @Test
    void registerTwice_isReported() {
        for (Hmm2019Config c : List.of(V52, V53)) {
            assertRule(run(1, c, (k, mm, base) -> {
                HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
                HmmRange2019 r = range(k, mm, m, "r", base, 1);
                H19Bed.register(r, mm, m);
            }), Hmm2019Rules.RANGE_UNREGISTER_ONCE);
        }
    }

    @Test
    void secondUnregister_v52Silent_v53ReportsThePoison() {
        assertClean(run(1, V52, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = range(k, mm, m, "r", base, 1);
            r.unregister();
            r.unregister();
            assertFalse(r.waitUntilValid(HmmRange2019.DEFAULT_TIMEOUT_MS), "v5.2: false on an unregistered range");
            m.unregister();
        }));
        assertRule(run(1, V53, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = range(k, mm, m, "r", base, 1);
            r.unregister();
            r.unregister();
        }), Hmm2019Rules.RANGE_UNREGISTER_ONCE);
    }

    @Test
    void v53_anyApiCallAfterUnregister_isReported_startEndAndPfnsStayReadable() {
        List<String> calls = List.of("wait", "valid", "snapshot", "fault");
        for (String call : calls) {
            assertRule(run(1, V53, (k, mm, base) -> {
                HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
                HmmRange2019 r = range(k, mm, m, "r", base, 1);
                r.unregister();
                assertEquals(base, r.start());
                assertEquals(1, r.pfns().length);
                mm.mmapReadLock();
                switch (call) {
                    case "wait" -> r.waitUntilValid(10);
                    case "valid" -> r.valid();
                    case "snapshot" -> Hmm2019Walk.hmmRangeSnapshot(r);
                    default -> Hmm2019Walk.hmmRangeFault(r, true);
                }
                mm.mmapReadUnlock();
            }), Hmm2019Rules.RANGE_UNREGISTER_ONCE);
        }
    }

    @Test
    void v52_snapshotOfAnUnregisteredRange_isTheNullDereference() {
        assertRule(run(1, V52, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = range(k, mm, m, "r", base, 1);
            r.unregister();
            mm.mmapReadLock();
            Hmm2019Walk.hmmRangeSnapshot(r);
        }), Hmm2019Rules.NULL_HMM);
    }

    /** Runs {@code check} with a registered range over the 4 touched pages, under the mmap read lock. */
    private static void withRange(Hmm2019Config c, long seed, RangeCheck check) {
        assertClean(run(seed, c, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = range(k, mm, m, "r", base, PAGES);
            mm.mmapReadLock();
            check.run(k, mm, base, r);
            mm.mmapReadUnlock();
            r.unregister();
            m.unregister();
        }));
    }

    interface RangeCheck {
        void run(Kernel k, MmStruct mm, long base, HmmRange2019 r) throws Exception;
    }

    @Test
    void snapshotAndFault_fillEveryPage_withTheCpuPfn_eachVersion() {
        for (Hmm2019Config c : List.of(V52, V53, V54)) {
            withRange(c, 1, (k, mm, base, r) -> {
                assertEquals(PAGES, Hmm2019Walk.hmmRangeSnapshot(r));
                for (int i = 0; i < PAGES; i++) {
                    long pte = mm.ptePeek(base + i * PAGE);
                    assertEquals((Pte.pfn(pte) << HmmRange2019.PFN_SHIFT) | HmmRange2019.FLAG_VALID | HmmRange2019.FLAG_WRITE,
                            r.pfns()[i], "page " + i);
                }
                r.setRequest(HmmRange2019.FLAG_VALID | HmmRange2019.FLAG_WRITE, 0);
                assertEquals(PAGES, Hmm2019Walk.hmmRangeFault(r, true));
            });
        }
    }

    @Test
    void snapshot_ofUnpopulatedPages_isNone_faultPopulatesThem() {
        assertClean(run(1, V53, (k, mm, base) -> {
            long fresh = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = range(k, mm, m, "r", fresh, 2);
            mm.mmapReadLock();
            assertEquals(2, Hmm2019Walk.hmmRangeSnapshot(r));
            assertEquals(HmmRange2019.VALUE_NONE, r.pfns()[0]);
            r.setRequest(HmmRange2019.FLAG_VALID, 0);
            assertEquals(2, Hmm2019Walk.hmmRangeFault(r, true));
            assertTrue((r.pfns()[0] & HmmRange2019.FLAG_VALID) != 0, "faulted in");
            mm.mmapReadUnlock();
            r.unregister();
            m.unregister();
        }));
    }

    @Test
    void errors_noVmaIsEfault_unreadableIsEperm() {
        assertClean(run(1, V53, (k, mm, base) -> {
            long hole = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_READ);
            long none = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_READ);
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r1 = range(k, mm, m, "r1", hole, 1);
            assertEquals(0, Mmap.munmap(mm, hole, PAGE));
            assertEquals(0, Mprotect.mprotect(mm, none, PAGE, Mmap.PROT_NONE));
            HmmRange2019 r2 = range(k, mm, m, "r2", none, 1);
            mm.mmapReadLock();
            long a = Hmm2019Walk.hmmRangeSnapshot(r1);
            assertTrue(a == 1 || a == -Errno.EFAULT, "a hole is none (or -EFAULT with no VMA above): " + a);
            r1.setRequest(HmmRange2019.FLAG_VALID, 0);
            assertEquals(-Errno.EFAULT, Hmm2019Walk.hmmRangeFault(r1, true), "a fault requested in a hole");
            long b = Hmm2019Walk.hmmRangeSnapshot(r2);
            mm.mmapReadUnlock();
            assertEquals(-Errno.EPERM, b);
            r1.unregister();
            r2.unregister();
            m.unregister();
        }));
    }

    @Test
    void invalidRange_v52FaultDropsTheMmapLockAndReturnsEagain_v53ReturnsEbusyHoldingIt() {
        for (Hmm2019Config c : List.of(V52, V53)) {
            assertClean(run(1, c, (k, mm, base) -> {
                HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
                HmmRange2019 r = range(k, mm, m, "r", base, PAGES);
                Hmm2019 h = m.hmm();
                h.rangesLock();
                h.addNotifiers(1);
                r.setValidLocked(false);
                h.rangesUnlock();
                mm.mmapReadLock();
                long snap = Hmm2019Walk.hmmRangeSnapshot(r);
                long fault = Hmm2019Walk.hmmRangeFault(r, true);
                boolean held = mm.mmapLock().heldByCurrent();
                if (held) {
                    mm.mmapReadUnlock();
                }
                if (c.has(Hmm2019Patch.RC)) {
                    assertEquals(-Errno.EBUSY, snap);
                    assertEquals(-Errno.EBUSY, fault);
                    assertTrue(held, "-EBUSY keeps mmap_sem");
                } else {
                    assertEquals(-Errno.EAGAIN, snap);
                    assertEquals(-Errno.EAGAIN, fault);
                    assertFalse(held, "v5.2's -EAGAIN from hmm_range_fault dropped mmap_sem");
                }
                assertFalse(r.waitUntilValid(5), "times out while the invalidation is in flight");
                Hmm2019Notifier.notifiersDecrement(h);
                assertTrue(r.waitUntilValid(5));
                assertTrue(r.valid());
                r.unregister();
                m.unregister();
            }));
        }
    }

    @Test
    void waitUntilValidUnderASpinlock_v52MissesIt_v53ReportsSleepInAtomic() {
        for (long seed : SEEDS) {
            for (Hmm2019Config c : List.of(V52, V53)) {
                var r = run(seed, c, (k, mm, base) -> {
                    HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
                    HmmRange2019 range = range(k, mm, m, "r", base, 1);
                    SpinLock driverSpin = new SpinLock(k, "driver->spin", "driver->spin");
                    driverSpin.lock();
                    assertTrue(range.waitUntilValid(HmmRange2019.DEFAULT_TIMEOUT_MS));
                    driverSpin.unlock();
                    range.unregister();
                    m.unregister();
                });
                if (c.has(Hmm2019Patch.P05)) {
                    assertRule(r, SimRules.SLEEP_IN_ATOMIC_RULE);
                } else {
                    assertClean(r);
                }
            }
        }
    }

    @Test
    void v52RangeRegister_onAnMmWithoutHmm_createsOne_withNoMirror_i_h12() {
        assertRule(run(1, V52, (k, mm, base) -> {
            HmmRange2019 r = new HmmRange2019(k, "r", base, base + PAGE, new long[1]);
            mm.mmapWriteLock();
            r.register(mm, base, base + PAGE, Pte.PAGE_SHIFT);
            mm.mmapWriteUnlock();
        }), Hmm2019Rules.RANGE_ON_MIRRORED_HMM);
    }
}
