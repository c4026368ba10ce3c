package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.H19Bed.SEEDS;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V52;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V53;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V54;
import static hmm4j.kernel.mm.hmm2019.H19Bed.mirror;
import static hmm4j.kernel.mm.hmm2019.H19Bed.run;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierSubscriptions;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** hmm_get_or_create, hmm_put/hmm_free, hmm_mirror_register/unregister and the helpers, per version. */
class Hmm2019MirrorTest {

    static void assertRule(RunResult r, Rule rule) {
        assertFalse(r.failures().isEmpty(), () -> "expected " + rule.id() + ", got a clean run");
        assertEquals(rule.id(), r.failures().get(0).rule().id(), () -> describe(r));
    }

    @Test
    void register_createsOneHmmPerMm_sharedByMirrors_lastUnregisterFreesIt_eachVersion() {
        for (Hmm2019Config c : List.of(V52, V53, V54)) {
            for (long seed : SEEDS) {
                AtomicReference<Hmm2019> hmm = new AtomicReference<>();
                assertClean(run(seed, c, (k, mm, base) -> {
                    H19Bed.Device dev = new H19Bed.Device(k, "dev");
                    HmmMirror a = mirror(k, mm, "a", dev);
                    HmmMirror b = mirror(k, mm, "b", dev);
                    Hmm2019 h = a.hmm();
                    hmm.set(h);
                    assertSame(h, b.hmm(), "one struct hmm per mm");
                    assertEquals(2, h.mirrorCountPeek());
                    if (!c.has(Hmm2019Patch.GET)) {
                        assertSame(h, MmHmm.of(mm).peek(), "mm->hmm");
                        assertEquals(2, h.krefPeek(), "a kref per mirror");
                    } else {
                        assertNull(MmHmm.of(mm).peek(), "v5.4 has no mm->hmm");
                        assertEquals(2, h.notifier().users());
                    }
                    a.unregister();
                    assertFalse(h.isFreed());
                    b.unregister();
                    MmuNotifier.mmuNotifierSrcuBarrier(k); // waits for the queued free, not only its grace period
                    assertTrue(h.isFreed(), c + ": the last unregister frees the hmm (after the grace period in v5.3+)");
                    assertNull(MmHmm.of(mm).peek());
                }));
            }
        }
    }

    @Test
    void v53_hmmHoldsItsOwnMmgrab_droppedInTheSrcuCallback() {
        assertClean(run(1, V53, (k, mm, base) -> {
            int count0 = mm.mmCountPeek();
            HmmMirror a = mirror(k, mm, "a", new H19Bed.Device(k, "dev"));
            assertEquals(count0 + 2, mm.mmCountPeek(), "the notifier's pin and the hmm's own mmgrab (P03)");
            a.unregister();
            assertEquals(count0 + 1, mm.mmCountPeek(), "the notifier's pin is gone, the hmm's waits for SRCU");
            MmuNotifierSubscriptions.srcu(k).srcuBarrier();
            assertEquals(count0, mm.mmCountPeek());
        }));
    }

    @Test
    void v52_hmmHasNoMmgrabOfItsOwn() {
        assertClean(run(1, V52, (k, mm, base) -> {
            int count0 = mm.mmCountPeek();
            HmmMirror a = mirror(k, mm, "a", new H19Bed.Device(k, "dev"));
            assertEquals(count0 + 1, mm.mmCountPeek(), "only the notifier registration's pin");
            a.unregister();
            assertEquals(count0, mm.mmCountPeek());
        }));
    }

    @Test
    void register_nullOpsOrMm_isEinval() {
        assertClean(run(1, V53, (k, mm, base) -> {
            HmmMirror noOps = new HmmMirror(k, "no-ops", null);
            mm.mmapWriteLock();
            assertEquals(-Errno.EINVAL, noOps.register(mm));
            assertEquals(-Errno.EINVAL, new HmmMirror(k, "m", new H19Bed.Device(k, "d")).register(null));
            mm.mmapWriteUnlock();
        }));
    }

    @Test
    void register_withTheMmapLockForRead_v53AssertsAtEntry_v52OnlyWhenItCreatesTheHmm() {
        for (long seed : SEEDS) {
            assertRule(run(seed, V53, (k, mm, base) -> {
                mirror(k, mm, "first", new H19Bed.Device(k, "dev"));
                HmmMirror second = new HmmMirror(k, "second", new H19Bed.Device(k, "dev2"));
                mm.mmapReadLock();
                second.register(mm);
                mm.mmapReadUnlock();
            }), SimRules.ASSERT_HELD);
            RunResult v52 = run(seed, V52, (k, mm, base) -> {
                HmmMirror first = mirror(k, mm, "first", new H19Bed.Device(k, "dev"));
                HmmMirror second = new HmmMirror(k, "second", new H19Bed.Device(k, "dev2"));
                mm.mmapReadLock();
                assertEquals(0, second.register(mm), "v5.2 does not check: the contract violation is missed");
                mm.mmapReadUnlock();
                second.unregister();
                first.unregister();
            });
            assertClean(v52);
            assertRule(run(seed, V52, (k, mm, base) -> {
                HmmMirror first = new HmmMirror(k, "first", new H19Bed.Device(k, "dev"));
                mm.mmapReadLock();
                first.register(mm);
                mm.mmapReadUnlock();
            }), SimRules.ASSERT_HELD);
        }
    }

    @Test
    void sequentialDoubleUnregister_v52GuardHidesIt_v53ReportsThePoisonedEntry() {
        assertClean(run(1, V52, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            m.unregister();
            m.unregister();
            assertNull(m.hmm());
        }));
        RunResult r = run(1, V53, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            m.unregister();
            m.unregister();
        });
        assertRule(r, Hmm2019Rules.MIRROR_UNREGISTER_ONCE);
        assertTrue(r.failures().get(0).details().get(0).contains("list_del on a deleted entry"), () -> describe(r));
    }

    @Test
    void unregisterWithoutRegister_isReportedInEveryVersion() {
        for (Hmm2019Config c : List.of(V52, V53, V54)) {
            assertRule(run(1, c, (k, mm, base) -> new HmmMirror(k, "never", new H19Bed.Device(k, "dev")).unregister()),
                    Hmm2019Rules.MIRROR_UNREGISTER_ONCE);
        }
    }

    @Test
    void registerTwice_isReported() {
        assertRule(run(1, V53, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            mm.mmapWriteLock();
            m.register(mm);
            mm.mmapWriteUnlock();
        }), Hmm2019Rules.MIRROR_UNREGISTER_ONCE);
    }

    @Test
    void mmIsAlive_isAHint_trueUntilRelease_andGoneInV53() {
        assertClean(run(1, V52, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            assertTrue(m.mmIsAlive());
            assertEquals(0, m.mmDownRead());
            assertTrue(mm.mmapLock().heldByCurrent());
            m.mmUpRead();
            m.unregister();
            assertFalse(m.mmIsAlive(), "no hmm after unregister in v5.2");
            assertEquals(-Errno.EINVAL, m.mmDownRead());
        }));
        RunResult r = run(1, V53, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            try {
                assertThrows(IllegalStateException.class, m::mmIsAlive);
            } finally {
                m.unregister();
            }
        });
        assertClean(r);
    }

    @Test
    void exit_v53CallsReleaseWithTheMirrorStillLinked_aDeferredUnregisterIsClean() {
        for (long seed : SEEDS) {
            AtomicReference<H19Bed.Device> dev = new AtomicReference<>();
            RunResult r = run(seed, V53, (k, mm, base) -> {
                dev.set(new H19Bed.Device(k, "dev"));
                Completion released = new Completion(k, "released");
                HmmMirror m = mirror(k, mm, "m", new HmmMirrorOps() {
                    @Override
                    public int syncCpuDevicePagetables(HmmMirror mirror, HmmUpdate update) {
                        return dev.get().syncCpuDevicePagetables(mirror, update);
                    }

                    @Override
                    public void release(HmmMirror mirror) {
                        assertTrue(mirror.isLinked(), "v5.3 does not unlink before ->release");
                        dev.get().releases.add(mirror.name());
                        released.complete();
                    }
                });
                k.spawnKthread("driver-close", t -> {
                    released.waitForCompletion();
                    m.unregister();
                });
            });
            assertClean(r);
            assertEquals(List.of("m"), dev.get().releases);
        }
    }

    /** H19-P11-sync-unreg: a release op that unregisters its own mirror at once. */
    private static RunResult syncUnregisterFromRelease(Hmm2019Config c, long seed) {
        return run(seed, c, (k, mm, base) -> {
            H19Bed.Device dev = new H19Bed.Device(k, "dev");
            mirror(k, mm, "m", new HmmMirrorOps() {
                @Override
                public int syncCpuDevicePagetables(HmmMirror mirror, HmmUpdate update) {
                    return dev.syncCpuDevicePagetables(mirror, update);
                }

                @Override
                public void release(HmmMirror mirror) {
                    assertFalse(c.has(Hmm2019Patch.P11) ? false : mirror.isLinked(), "v5.2 unlinks before ->release");
                    mirror.unregister();
                }
            });
        });
    }

    @Test
    void releaseThatUnregistersSynchronously_v52Clean_v53ReportedBeforeItSelfDeadlocks() {
        for (long seed : SEEDS) {
            assertClean(syncUnregisterFromRelease(V52, seed));
            assertRule(syncUnregisterFromRelease(V53, seed), Hmm2019Rules.RELEASE_NO_MIRRORS_SEM);
        }
    }

    @Test
    void failureRecordsNameTheirRule() {
        RunResult r = run(1, V53, (k, mm, base) -> new HmmMirror(k, "never", new H19Bed.Device(k, "dev")).unregister());
        Failure f = r.failures().get(0);
        assertNotNull(f.rule());
        assertTrue(f.headline().contains("hmm_mirror_unregister runs exactly once"), f.headline());
    }
}
