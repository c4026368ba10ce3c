package hmm4j.scenarios;

import hmm4j.drivers.notifier.SvmMirror;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.rule.SimRules;
import java.util.List;

/**
 * U1: munmap's UNMAP invalidation runs after the VMAs are detached and the mmap lock is
 * downgraded to read ({@code do_vmi_align_munmap}), so a driver's fault path holding the mmap
 * lock for read runs concurrently with the driver's own unmap callback. amdkfd's SVM code
 * defers the teardown of unmapped ranges to a worker that takes the mmap lock for write for
 * exactly this reason; a driver that frees them in the callback is found.
 */
public final class UnmapScenarios {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final int PAGES = 2;

    private UnmapScenarios() {
    }

    public static List<Scenario> all() {
        return List.of(
                new DesignScenario("U1-svm-free-in-unmap", "amdkfd-style SVM: UNMAP callback frees ranges a GPU fault still uses",
                        Expectation.finds(SimRules.USE_AFTER_FREE_RULE), k -> faultWhileUnmapping(k, true)),
                new DesignScenario("U1-svm-deferred-list", "amdkfd-style SVM: UNMAP callback defers the free to a worker under mmap_write_lock",
                        Expectation.clean().reaching(SvmMirror.FAULT_ON_UNMAPPED, SvmMirror.DEFERRED_FREE),
                        k -> faultWhileUnmapping(k, false)));
    }

    /** A GPU faults the mirrored pages while the process unmaps them. */
    private static void faultWhileUnmapping(Kernel k, boolean freeInCallback) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, PAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (PAGES * PAGE)]) != 0) {
                throw new IllegalStateException("process could not set up its mapping: " + base);
            }
            SvmMirror svm = SvmMirror.create(k, mm, base, PAGES, freeInCallback);
            Task gpu = k.spawnKthread("gpu-fault", t -> {
                if (!mm.mmgetNotZero()) {
                    return;
                }
                for (int i = 0; i < PAGES; i++) {
                    svm.gpuFault(base + i * PAGE);
                }
                mm.mmput();
            });
            Mmap.munmap(mm, base, PAGES * PAGE);
            gpu.join();
            svm.release();
        });
    }
}
