package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.H19Bed.PAGE;
import static hmm4j.kernel.mm.hmm2019.H19Bed.PAGES;
import static hmm4j.kernel.mm.hmm2019.H19Bed.SEEDS;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V52;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V53;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V54;
import static hmm4j.kernel.mm.hmm2019.H19Bed.kernel;
import static hmm4j.kernel.mm.hmm2019.H19Bed.mirror;
import static hmm4j.kernel.mm.hmm2019.H19Bed.range;
import static hmm4j.kernel.mm.hmm2019.H19Bed.run;
import static hmm4j.kernel.mm.hmm2019.Hmm2019MirrorTest.assertRule;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.sched.Clone;
import hmm4j.sim.RunResult;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * hmm_invalidate_range_start/end (with notifiers_decrement and the P12 error flows),
 * hmm_release with ranges, and the configuration's patch dependencies.
 */
class Hmm2019NotifierTest {

    @Test
    void munmap_syncsEveryMirror_invalidatesTheOverlappingRange_andEndRevalidates_eachVersion() {
        for (Hmm2019Config c : List.of(V52, V53, V54)) {
            for (long seed : SEEDS) {
                assertClean(run(seed, c, (k, mm, base) -> {
                    AtomicInteger seenInvalid = new AtomicInteger();
                    HmmRange2019[] holder = new HmmRange2019[2];
                    H19Bed.Device dev = new H19Bed.Device(k, "dev");
                    HmmMirror m = mirror(k, mm, "m", new HmmMirrorOps() {
                        @Override
                        public int syncCpuDevicePagetables(HmmMirror mirror, HmmUpdate update) {
                            if (holder[0] != null && !holder[0].validPeek()) {
                                seenInvalid.incrementAndGet();
                            }
                            assertTrue(holder[1].validPeek(), "a range that does not overlap stays valid");
                            return dev.syncCpuDevicePagetables(mirror, update);
                        }
                    });
                    holder[0] = range(k, mm, m, "r0", base, 1);
                    holder[1] = range(k, mm, m, "r3", base + 3 * PAGE, 1);
                    assertEquals(0, Mmap.munmap(mm, base, PAGE));
                    assertEquals(1, dev.updates.size());
                    assertEquals(base, dev.updates.get(0).start());
                    assertEquals(1, seenInvalid.get(), "the range was invalid during the sync");
                    assertEquals(0, m.hmm().notifiersPeek());
                    assertTrue(holder[0].validPeek(), "valid again once no invalidation is in flight");
                    holder[0].unregister();
                    holder[1].unregister();
                    m.unregister();
                }));
            }
        }
    }

    /** P12a: a non-blocking start (the OOM reaper) while another task holds mirrors_sem for write. */
    private static RunResult reaperVsMirrorsSemWriter(Hmm2019Config c, AtomicLong ret) {
        return run(kernel(new WindowStrategy("proc", "writer", "reaper")), c, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = range(k, mm, m, "r", base, PAGES);
            Completion held = new Completion(k, "held");
            Completion done = new Completion(k, "done");
            Clone.cloneVm(k, "writer", t -> {
                m.hmm().mirrorsSem().downWrite();
                held.complete();
                done.waitForCompletion();
                m.hmm().mirrorsSem().upWrite();
            });
            k.spawnKthread("reaper", t -> {
                held.waitForCompletion();
                ret.set(Hmm2019Core.invalidateRangeStartNonblock(mm, base, base + PAGES * PAGE));
                done.completeAll();
            });
            done.waitForCompletion();
            assertFalse(r.waitUntilValid(10) && !c.has(Hmm2019Patch.P12), "v5.2: the range never becomes valid again");
            r.unregister();
            m.unregister();
        });
    }

    @Test
    void nonblockStart_mirrorsSemTrylockFails_v52LeaksTheCount_v53UnwindsIt() {
        AtomicLong ret = new AtomicLong();
        RunResult v52 = reaperVsMirrorsSemWriter(V52, ret);
        assertRule(v52, Hmm2019Rules.NOTIFIERS_BALANCED);
        assertTrue(v52.failures().get(0).details().get(0).contains("notifiers still raised (1)"), v52.failures().toString());
        RunResult v53 = reaperVsMirrorsSemWriter(V53, ret);
        assertClean(v53);
        assertEquals(-Errno.EAGAIN, ret.get());
        assertTrue(v53.marks().contains(Hmm2019.START_UNWOUND));
    }

    /** P12b: a non-blocking start while a driver thread holds the device lock the sync trylocks. */
    private static RunResult reaperVsDeviceLock(Hmm2019Config c, AtomicLong ret) {
        return run(kernel(new WindowStrategy("proc", "driver", "reaper")), c, (k, mm, base) -> {
            H19Bed.Device dev = new H19Bed.Device(k, "dev");
            HmmMirror m = mirror(k, mm, "m", dev);
            Completion held = new Completion(k, "held");
            Completion done = new Completion(k, "done");
            Clone.cloneVm(k, "driver", t -> {
                dev.ptLock.lock();
                held.complete();
                done.waitForCompletion();
                dev.ptLock.unlock();
            });
            k.spawnKthread("reaper", t -> {
                held.waitForCompletion();
                int r = Hmm2019Core.invalidateRangeStartNonblock(mm, base, base + PAGES * PAGE);
                ret.set(r);
                if (r == 0) {
                    Hmm2019Core.invalidateRangeEndNonblock(mm, base, base + PAGES * PAGE);
                }
                done.completeAll();
            });
            done.waitForCompletion();
            m.unregister();
        });
    }

    @Test
    void nonblockStart_syncEagain_v52SwallowsItAndReturnsZero_v53PropagatesIt() {
        AtomicLong ret = new AtomicLong(1);
        assertRule(reaperVsDeviceLock(V52, ret), Hmm2019Rules.START_ZERO_ALL_SYNCED);
        ret.set(1);
        assertClean(reaperVsDeviceLock(V53, ret));
        assertEquals(-Errno.EAGAIN, ret.get());
    }

    @Test
    void v53_aBlockableSyncThatFails_isTheWarn() {
        assertRule(run(1, V53, (k, mm, base) -> {
            mirror(k, mm, "m", (mirror, update) -> -Errno.EAGAIN);
            Mmap.munmap(mm, base, PAGE);
        }), Hmm2019Rules.SYNC_FAILS_ONLY_NONBLOCK);
    }

    @Test
    void v53_releaseWithARangeRegistered_isTheWarn_v52InvalidatesItAndSetsDead() {
        assertRule(run(1, V53, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = range(k, mm, m, "r", base, 1);
            // exit's hmm_release with a range still registered (impossible with its mmget unless forced)
            Hmm2019 h = m.hmm();
            h.notifier().ops().release(h.notifier(), mm);
            r.unregister();
        }), Hmm2019Rules.RELEASE_NO_RANGES);
        assertClean(run(1, V52, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            HmmRange2019 r = range(k, mm, m, "r", base, 1);
            Hmm2019 h = m.hmm();
            h.notifier().ops().release(h.notifier(), mm);
            assertTrue(h.deadPeek());
            assertFalse(r.validPeek());
            assertFalse(m.isLinked(), "v5.2 unlinks every mirror");
            assertEquals(-Errno.EFAULT, Hmm2019Walk.hmmRangeSnapshot(r), "a dead hmm");
            r.unregister();
            m.unregister();
        }));
    }

    @Test
    void v54_unregisterTheMirrorWithARangeLeft_isTheFreeNotifierWarn() {
        assertRule(run(1, V54, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            range(k, mm, m, "r", base, 1);
            m.unregister();
            hmm4j.kernel.mm.notifier.MmuNotifier.mmuNotifierSynchronize(k);
        }), Hmm2019Rules.FREE_EMPTY);
    }

    @Test
    void config_patchesFlipOnTheirOwn_dependenciesAreRefused() {
        Hmm2019Config one = V52.with(Hmm2019Patch.P12);
        assertTrue(one.has(Hmm2019Patch.P12));
        assertEquals("v5.2+P12", one.label());
        assertEquals("v5.3", V53.label());
        assertEquals(V52, one.without(Hmm2019Patch.P12));
        assertThrows(IllegalArgumentException.class, () -> V52.with(Hmm2019Patch.P07), "P07 needs P02 and P03");
        assertThrows(IllegalArgumentException.class, () -> V53.without(Hmm2019Patch.P03), "P04 and P07 need P03");
        assertEquals(V53, V54.without(Hmm2019Patch.GET));
    }

    @Test
    void v52WithOnlyP12_fixesTheCountLeak() {
        AtomicLong ret = new AtomicLong();
        assertClean(reaperVsMirrorsSemWriter(V52.with(Hmm2019Patch.P12), ret));
        assertEquals(-Errno.EAGAIN, ret.get());
    }
}
