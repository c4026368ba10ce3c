package hmm4j.drivers.services;

import static hmm4j.testkit.RunAssertions.assertClean;
import static hmm4j.testkit.RunAssertions.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.rule.SimRules;
import hmm4j.testkit.TestKernels;
import hmm4j.testkit.UserMemory;
import org.junit.jupiter.api.Test;

/** The two service drivers over many seeds: each bug is found, each fix is clean. */
class ServiceDriversTest {
    private static final int SEEDS = 200;

    private static RunResult refresh(long seed, boolean fixed) {
        Kernel k = TestKernels.checked(seed);
        RefreshDevice dev = new RefreshDevice(k);
        Task irq = k.spawnKthread("irq", t -> {
            dev.interrupt();
            dev.interrupt();
        });
        k.spawnKthread("teardown", t -> {
            irq.join();
            if (fixed) {
                dev.teardown();
            } else {
                dev.teardownFlushUnderLock();
            }
        });
        return k.run();
    }

    private static RunResult moduleExit(long seed, NotifierModule.ExitWait exitWait) {
        Kernel k = TestKernels.checked(seed);
        NotifierModule drv = NotifierModule.load(k, exitWait);
        Completion closed = new Completion(k, "closed");
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = UserMemory.mapTouched(k, mm, 2);
            assertEquals(0, drv.open(mm));
            Mmap.munmap(mm, base, UserMemory.PAGE);
            drv.release();
            closed.complete();
            Mmap.munmap(mm, base + UserMemory.PAGE, UserMemory.PAGE);
        });
        k.spawnKthread("rmmod", t -> {
            closed.waitForCompletion();
            int ret = drv.module().deleteModule();
            assertEquals(0, ret);
        });
        return k.run();
    }

    @Test
    void flushWorkUnderTheDeviceLock_isALockOrderCycleOnEverySeed() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            RunResult r = refresh(seed, false);
            assertEquals(1, r.failures().size(), describe(r));
            assertEquals(SimRules.LOCK_ORDER, r.failures().get(0).rule(), describe(r));
        }
    }

    @Test
    void cancelWorkSyncOutsideTheLock_isClean() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertClean(refresh(seed, true));
        }
    }

    @Test
    void moduleExitWithoutSynchronize_isAUseAfterFreeOfTheModule() {
        assertFreeNotifierOnAFreedModule(NotifierModule.ExitWait.NONE);
    }

    /**
     * {@code mmu_notifier_synchronize} is {@code synchronize_srcu}: after it the queued
     * {@code ->free_notifier} may still be waiting for the callback thread, so the module can be
     * gone when it runs (Tree SRCU with per-CPU callback lists).
     */
    @Test
    void moduleExitWithSynchronize_isStillAUseAfterFreeOnSomeSeed() {
        assertFreeNotifierOnAFreedModule(NotifierModule.ExitWait.SYNCHRONIZE);
    }

    @Test
    void moduleExitWithAnSrcuBarrier_isClean() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertClean(moduleExit(seed, NotifierModule.ExitWait.SRCU_BARRIER));
        }
    }

    private static void assertFreeNotifierOnAFreedModule(NotifierModule.ExitWait exitWait) {
        int found = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            RunResult r = moduleExit(seed, exitWait);
            if (!r.failures().isEmpty()) {
                Failure.UseAfterFree uaf = assertInstanceOf(Failure.UseAfterFree.class, r.failures().get(0), describe(r));
                assertTrue(uaf.access().contains("free_notifier"), uaf.access());
                found++;
            }
        }
        assertTrue(found > 0, "some interleaving runs free_notifier after the module is gone");
    }
}
