package hmm4j.kernel.module;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** try_module_get / module_put, delete_module and calls into a removed module. */
class ModuleTest {

    @Test
    void deleteModule_refusesWhileReferenced_thenRunsExitAndFrees() {
        Kernel k = checkedKernel(1);
        AtomicInteger exits = new AtomicInteger();
        AtomicBoolean getInExit = new AtomicBoolean(true);
        k.spawnKthread("modprobe", t -> {
            Module m = Module.load(k, "drv", mod -> 0, mod -> {
                exits.incrementAndGet();
                getInExit.set(mod.tryModuleGet());
            });
            assertEquals(ModuleState.LIVE, m.moduleState());
            assertTrue(m.tryModuleGet());
            assertEquals(-Errno.EWOULDBLOCK, m.deleteModule(), "a referenced module is not removed");
            assertEquals(0, exits.get());
            m.modulePut();
            assertEquals(0, m.deleteModule());
            assertEquals(1, exits.get());
            assertEquals(ModuleState.GOING, m.moduleState());
            assertTrue(m.isFreed());
        });
        assertClean(k.run());
        assertFalse(getInExit.get(), "try_module_get fails once the module is GOING");
    }

    @Test
    void failingInit_freesTheModuleWithoutItsExit() {
        Kernel k = checkedKernel(1);
        AtomicInteger exits = new AtomicInteger();
        k.spawnKthread("modprobe", t -> assertNull(Module.load(k, "drv", mod -> -Errno.ENODEV, mod -> exits.incrementAndGet())));
        assertClean(k.run());
        assertEquals(0, exits.get());
    }

    @Test
    void modulePutWithoutAReference_isReported() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> Module.load(k, "drv", mod -> 0, mod -> { }).modulePut());
        Failure f = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(KernelRules.MODULE_PUT_PAIRS_GET, f.rule());
    }

    @Test
    void callIntoARemovedModule_isAUseAfterFree() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            Module m = Module.load(k, "drv", mod -> 0, mod -> { });
            m.checkText("drv_open");
            m.deleteModule();
            m.checkText("drv_release");
        });
        Failure.UseAfterFree uaf = assertSingleFailure(k.run(), Failure.UseAfterFree.class);
        assertTrue(uaf.access().contains("drv_release"), uaf.access());
    }
}
