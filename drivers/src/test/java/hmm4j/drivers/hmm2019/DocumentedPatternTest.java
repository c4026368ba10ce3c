package hmm4j.drivers.hmm2019;

import static hmm4j.testkit.RunAssertions.assertClean;
import static hmm4j.testkit.RunAssertions.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.hmm2019.Hmm2019Config;
import hmm4j.kernel.mm.hmm2019.Hmm2019Version;
import hmm4j.kernel.mm.hmm2019.Hmm2019Walk;
import hmm4j.kernel.mm.hmm2019.HmmMirror;
import hmm4j.kernel.mm.hmm2019.HmmRange2019;
import hmm4j.kernel.mm.hmm2019.MmHmm;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Completion;
import hmm4j.testkit.TestKernels;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The §3.1 retry loop of hmm.rst on every return code, per version, and the 2019 drivers. */
class DocumentedPatternTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final Hmm2019Config V52 = Hmm2019Config.of(Hmm2019Version.V5_2);
    private static final Hmm2019Config V53 = Hmm2019Config.of(Hmm2019Version.V5_3);

    interface Body {
        void run(Kernel k, MmStruct mm, long base, HmmMirror mirror, Hmm2019Device dev) throws Exception;
    }

    private static RunResult run(long seed, Hmm2019Config c, Body body) {
        Kernel k = TestKernels.checked(seed);
        MmHmm.setKernelConfig(k, c);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 4 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            UserAccess.copyToUser(k, base, new byte[(int) (4 * PAGE)]);
            Hmm2019Device dev = new Hmm2019Device(k, "dev");
            HmmMirror m = new HmmMirror(k, "mirror", dev);
            mm.mmapWriteLock();
            assertEquals(0, m.register(mm));
            mm.mmapWriteUnlock();
            body.run(k, mm, base, m, dev);
            m.unregister();
        });
        return k.run();
    }

    @Test
    void success_programsTheDeviceUnderItsLock_andUnregisters_bothVersions() {
        for (Hmm2019Config c : List.of(V52, V53)) {
            assertClean(run(1, c, (k, mm, base, m, dev) -> {
                HmmRange2019 r = new HmmRange2019(k, "r", base, base + 4 * PAGE, new long[4]);
                AtomicInteger programmed = new AtomicInteger();
                assertEquals(0, DocumentedPattern.mirrorRange(m, mm, r, dev.ptLock(), true, pfns -> {
                    dev.commit(mm, r);
                    programmed.incrementAndGet();
                }));
                assertEquals(1, programmed.get());
                assertEquals(4, dev.entries());
                assertFalse(r.isRegistered());
            }));
        }
    }

    @Test
    void einvalFromRegister_isReturnedWithNothingRegistered() {
        assertClean(run(1, V53, (k, mm, base, m, dev) -> {
            HmmRange2019 r = new HmmRange2019(k, "r", base + 1, base + PAGE, new long[1]);
            assertEquals(-Errno.EINVAL, DocumentedPattern.mirrorRange(m, mm, r, dev.ptLock(), true, p -> { }));
            assertFalse(r.isRegistered());
        }));
    }

    @Test
    void epermAndEfault_unlockAndUnregister_thenReturn() {
        for (Hmm2019Config c : List.of(V52, V53)) {
            assertClean(run(1, c, (k, mm, base, m, dev) -> {
                assertEquals(0, Mprotect.mprotect(mm, base + 3 * PAGE, PAGE, Mmap.PROT_NONE));
                HmmRange2019 none = new HmmRange2019(k, "none", base + 3 * PAGE, base + 4 * PAGE, new long[1]);
                assertEquals(-Errno.EPERM, DocumentedPattern.mirrorRange(m, mm, none, dev.ptLock(), true, p -> { }));
                assertFalse(none.isRegistered());
                long high = Pte.TASK_SIZE - 4 * PAGE;
                HmmRange2019 nothing = new HmmRange2019(k, "nothing", high, high + PAGE, new long[1]);
                assertEquals(-Errno.EFAULT, DocumentedPattern.mirrorRange(m, mm, nothing, dev.ptLock(), true, p -> { }));
                assertFalse(nothing.isRegistered());
                assertFalse(mm.mmapLock().heldByCurrent(), "every error path released mmap_sem");
            }));
        }
    }

    /** An invalidation held in flight by a thread of the process while the pattern runs. */
    private static RunResult retryAgainstInFlightInvalidation(long seed, Hmm2019Config c, boolean fault,
            AtomicInteger result) {
        return run(seed, c, (k, mm, base, m, dev) -> {
            Completion done = new Completion(k, "done");
            Clone.cloneVm(k, "invalidator", t -> {
                MmuNotifierRange inv = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR,
                        MmuNotifierRange.MMU_NOTIFIER_RANGE_BLOCKABLE, mm, base, base + PAGE);
                mm.mmapReadLock();
                inv.invalidateRangeStart();
                k.runtime().sleep(2_000_000L);
                inv.invalidateRangeEnd();
                mm.mmapReadUnlock();
                done.complete();
            });
            HmmRange2019 r = new HmmRange2019(k, "r", base, base + 2 * PAGE, new long[2]);
            result.set(DocumentedPattern.mirrorRange(m, mm, r, dev.ptLock(), fault, p -> { }));
            done.waitForCompletion();
        });
    }

    @Test
    void retryCode_v53EbusyAndV52SnapshotEagain_areRetriedToSuccess() {
        int invalidAtTop = 0;
        for (long seed = 1; seed <= 30; seed++) {
            for (Hmm2019Config c : List.of(V53)) {
                AtomicInteger result = new AtomicInteger(99);
                RunResult r = retryAgainstInFlightInvalidation(seed, c, true, result);
                assertClean(r);
                assertEquals(0, result.get(), "seed " + seed);
                invalidAtTop += r.marks().contains(Hmm2019Walk.INVALID_AT_TOP) ? 1 : 0;
            }
            AtomicInteger result = new AtomicInteger(99);
            RunResult r = retryAgainstInFlightInvalidation(seed, V52, false, result);
            assertClean(r);
            assertEquals(0, result.get(), "v5.2 snapshot, seed " + seed);
        }
        assertTrue(invalidAtTop > 0, "some seed met the range invalid at the top of the loop");
    }

    @Test
    void retryCode_v52FaultEagain_thePatternUnlocksTwice() {
        boolean found = false;
        for (long seed = 1; seed <= 60 && !found; seed++) {
            RunResult r = retryAgainstInFlightInvalidation(seed, V52, true, new AtomicInteger());
            if (!r.failures().isEmpty()) {
                assertFails(r, SimRules.UNLOCK_BY_HOLDER);
                found = true;
            }
        }
        assertTrue(found, "H19-RC: v5.2's -EAGAIN from hmm_range_fault has already dropped mmap_sem");
    }

    private static RunResult nouveauAgainstInvalidation(long seed, boolean fixed) {
        return run(seed, V53, (k, mm, base, m, dev) -> {
            NouveauSvmm svmm = NouveauSvmm.init(k, mm, "svmm", fixed);
            Completion done = new Completion(k, "done");
            Clone.cloneVm(k, "invalidator", t -> {
                MmuNotifierRange inv = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR,
                        MmuNotifierRange.MMU_NOTIFIER_RANGE_BLOCKABLE, mm, base, base + PAGE);
                mm.mmapReadLock();
                inv.invalidateRangeStart();
                k.runtime().sleep(2_000_000L);
                inv.invalidateRangeEnd();
                mm.mmapReadUnlock();
            });
            k.spawnKthread("svm-fault", t -> {
                int ret = svmm.fault(base, 2);
                assertTrue(ret == 0 || ret == -Errno.EBUSY, "fault: " + ret);
                done.complete();
            });
            done.waitForCompletion();
            svmm.fini();
        });
    }

    @Test
    void nouveau_historicalHelperAndCallerBothUnlockOnEbusy_fixedHelperAloneDoes() {
        boolean found = false;
        for (long seed = 1; seed <= 60; seed++) {
            assertClean(nouveauAgainstInvalidation(seed, true));
            RunResult r = nouveauAgainstInvalidation(seed, false);
            if (!r.failures().isEmpty()) {
                assertFails(r, SimRules.UNLOCK_BY_HOLDER);
                found = true;
            }
        }
        assertTrue(found, "some seed meets the invalid range in the historical helper");
    }

    @Test
    void amdgpu_historicalLookupWithoutMmapSemOrMmget_isThePinRule_theFixTakesMmget() {
        for (boolean fixed : List.of(false, true)) {
            RunResult r = run(1, V53, (k, mm, base, m, dev) -> {
                AmdgpuUserptr amn = AmdgpuUserptr.get(k, mm, new hmm4j.sim.sync.Mutex(k, "adev->mn_lock", "adev->mn_lock"),
                        fixed);
                Completion done = new Completion(k, "done");
                k.spawnKthread("userptr-validate", t -> {
                    HmmRange2019 range = amn.getUserPages(base, 2);
                    if (range != null) {
                        amn.getUserPagesDone(range);
                    }
                    done.complete();
                });
                done.waitForCompletion();
            });
            if (fixed) {
                assertClean(r);
            } else {
                assertFails(r, SimRules.PIN);
            }
        }
    }
}
