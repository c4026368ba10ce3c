package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.H19Bed.PAGE;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V52;
import static hmm4j.kernel.mm.hmm2019.H19Bed.V53;
import static hmm4j.kernel.mm.hmm2019.H19Bed.kernel;
import static hmm4j.kernel.mm.hmm2019.H19Bed.mirror;
import static hmm4j.kernel.mm.hmm2019.H19Bed.run;
import static hmm4j.kernel.mm.hmm2019.Hmm2019MirrorTest.assertRule;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.sched.Clone;
import hmm4j.sim.Op;
import hmm4j.sim.RunResult;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Completion;
import org.junit.jupiter.api.Test;

/**
 * One deterministic interleaving per window the 2019 review names (spec §2.20), on the
 * version before and after: the window is reached, the other task runs there, and the
 * checker reports the race (v5.2) or the run is clean (v5.3).
 */
class Hmm2019WindowsTest {
    /** The core's point between finding a subscription on the list and calling it. */
    private static final Op.Kind LIST_WALK = new Op.Kind("mmu notifier list walk", Op.Access.READ);

    /** H19-P01: the unmapper's invalidation against the teardown of the only mirror. */
    private static RunResult callbackVsLastUnregister(Hmm2019Config c, WindowStrategy s) {
        RunResult r = run(kernel(s), c, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            Clone.cloneVm(k, "unmapper", t -> Mmap.munmap(mm, base, PAGE));
            Clone.cloneVm(k, "teardown", t -> {
                m.unregister();
                m.kfree();
            });
        });
        assertTrue(s.taken() > 0, "the window was reached: " + describe(r));
        return r;
    }

    @Test
    void listWalk_callbackFoundTheHmmBeforeTheUnlink_v52FindsMmHmmNullAfterTheFree_v53SkipsOnKrefZero() {
        RunResult v52 = callbackVsLastUnregister(V52, new WindowStrategy("proc", "unmapper").at("unmapper", LIST_WALK, "teardown"));
        assertRule(v52, Hmm2019Rules.NULL_HMM);
        assertTrue(v52.failures().get(0).details().get(0).contains("freed"), () -> describe(v52));
        WindowStrategy s = new WindowStrategy("proc", "unmapper").at("unmapper", LIST_WALK, "teardown");
        RunResult v53 = callbackVsLastUnregister(V53, s);
        assertClean(v53);
        assertTrue(v53.marks().contains(Hmm2019.CALLBACK_KREF_ZERO), "the callback saw kref 0 and left");
    }

    @Test
    void mmGetHmm_pointerReadThenTheFree_thenTheKref_v52UseAfterFreeAtTheKref() {
        RunResult r = callbackVsLastUnregister(V52,
                new WindowStrategy("proc", "unmapper").at("unmapper", Hmm2019Windows.MM_GET_HMM, "teardown"));
        assertRule(r, Hmm2019Rules.CALLBACK_HMM_LIVE);
        assertTrue(r.failures().get(0).headline().contains("kref_get_unless_zero"), () -> describe(r));
    }

    @Test
    void hmmFree_betweenUnlinkAndClear_v52CallbackGetsNull_theVmBugOn() {
        RunResult r = callbackVsLastUnregister(V52, new WindowStrategy("proc", "unmapper")
                .at("unmapper", LIST_WALK, "teardown").at("teardown", Hmm2019Windows.HMM_FREE, "unmapper"));
        assertRule(r, Hmm2019Rules.NULL_HMM);
        assertTrue(r.failures().get(0).details().get(0).contains("VM_BUG_ON(!hmm) in hmm_invalidate_range_start"),
                () -> describe(r));
    }

    @Test
    void hmmFree_v53_theSameWindowIsClean() {
        assertClean(callbackVsLastUnregister(V53, new WindowStrategy("proc", "unmapper")
                .at("unmapper", LIST_WALK, "teardown").at("teardown", Hmm2019Windows.HMM_FREE, "unmapper")));
    }

    /** H19-P11: exit's hmm_release against a driver close that unregisters and frees the mirror. */
    private static RunResult releaseVsClose(Hmm2019Config c) {
        WindowStrategy s = new WindowStrategy("proc").at("proc", Hmm2019Windows.RELEASE_CALL, "driver-close");
        RunResult r = run(kernel(s), c, (k, mm, base) -> {
            H19Bed.Device dev = new H19Bed.Device(k, "dev");
            HmmMirror m = mirror(k, mm, "m", new H19Bed.ReleasingDevice(dev));
            k.spawnKthread("driver-close", t -> {
                m.unregister();
                m.kfree();
            });
        });
        assertEquals(1, s.taken(), () -> "the release window was reached: " + describe(r));
        return r;
    }

    @Test
    void releaseCall_v52MirrorFreedBetweenUpWriteAndRelease_v53CloseWaitsForTheReadLock() {
        assertRule(releaseVsClose(V52), Hmm2019Rules.MIRROR_LIVE);
        assertClean(releaseVsClose(V53));
    }

    /** H19-P03: exit, then a work item queued by ->release unregisters the last mirror. */
    private static RunResult releaseThenDeferredUnregister(Hmm2019Config c) {
        return run(kernel(new WindowStrategy("proc", "work")), c, (k, mm, base) -> {
            Completion released = new Completion(k, "released");
            HmmMirror m = mirror(k, mm, "m", new HmmMirrorOps() {
                @Override
                public int syncCpuDevicePagetables(HmmMirror mirror, HmmUpdate update) {
                    return 0;
                }

                @Override
                public void release(HmmMirror mirror) {
                    released.complete();
                }
            });
            k.spawnKthread("work", t -> {
                released.waitForCompletion();
                m.unregister();
            });
        });
    }

    @Test
    void hmmFree_afterTheProcessIsGone_v52TouchesTheFreedMm_v53HoldsItsMmgrab() {
        RunResult v52 = releaseThenDeferredUnregister(V52);
        assertRule(v52, Hmm2019Rules.HMM_PINS_MM);
        assertClean(releaseThenDeferredUnregister(V53));
    }

    /** H19-P07: a fault worker (a kernel thread, no mm_users of its own) against the process's exit. */
    private static RunResult faultVsExit(Hmm2019Config c, Op.Kind window) {
        WindowStrategy s = new WindowStrategy("proc", "fault-worker").at("fault-worker", window, "proc");
        RunResult r = run(kernel(s), c, (k, mm, base) -> {
            HmmMirror m = mirror(k, mm, "m", new H19Bed.Device(k, "dev"));
            Completion registered = new Completion(k, "registered");
            k.spawnKthread("fault-worker", t -> {
                HmmRange2019 range = new HmmRange2019(k, "range", base, base + 2 * PAGE, new long[2]);
                mm.mmapReadLock();
                int ret = H19Bed.register(range, mm, m);
                registered.complete();
                if (ret == 0) {
                    Hmm2019Walk.hmmRangeFault(range, true);
                }
                mm.mmapReadUnlock();
                if (ret == 0) {
                    range.unregister();
                }
                m.unregister();
            });
            registered.waitForCompletion();
        });
        assertTrue(s.taken() > 0 || !r.failures().isEmpty(), () -> describe(r));
        return r;
    }

    @Test
    void beforeFindVma_v52WalksWithoutMmget_v53TheRangeHoldsIt() {
        assertRule(faultVsExit(V52, Hmm2019Windows.BEFORE_FIND_VMA), SimRules.PIN);
        assertClean(faultVsExit(V53, Hmm2019Windows.BEFORE_FIND_VMA));
    }

    @Test
    void beforeWalk_v53TheExitInTheWindowCannotTearDownThePinnedSpace() {
        assertClean(faultVsExit(V53, Hmm2019Windows.BEFORE_WALK));
        assertRule(faultVsExit(V52, Hmm2019Windows.BEFORE_WALK), SimRules.PIN);
    }
}
