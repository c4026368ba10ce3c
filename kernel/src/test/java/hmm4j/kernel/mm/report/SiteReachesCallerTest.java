package hmm4j.kernel.mm.report;

import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A site captured deep inside the model (more model frames than a site keeps) still reaches
 * the caller's own line: here a page faulted in by {@code copy_to_user} (six model frames
 * from the allocator to the caller) and freed by {@code munmap}, then read by a stale holder.
 */
class SiteReachesCallerTest {
    private static final String TEST = "SiteReachesCallerTest.";

    private static boolean reachesTest(Site s) {
        return s.frames().stream().anyMatch(f -> f.startsWith(TEST)) && s.toString().contains(TEST);
    }

    @Test
    void theAllocationAndFreeSitesOfAPageFreedByTheModel_reachTheCallersLine() {
        Kernel k = checkedKernel(1);
        AtomicReference<Page> stale = new AtomicReference<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[] {7}) != 0) {
                throw new IllegalStateException("set-up failed: " + base);
            }
            mm.mmapReadLock();
            long pte = mm.pgd("test").get(base);
            mm.mmapReadUnlock();
            stale.set(PhysMem.of(k).pfnToPage(Pte.pfn(pte)));
            Mmap.munmap(mm, base, Pte.PAGE_SIZE);
            stale.get().readByte(0);
        });
        Failure.UseAfterFree uaf = assertSingleFailure(k.run(), Failure.UseAfterFree.class);
        assertTrue(uaf.allocated().frames().get(0).startsWith("PhysMem."), uaf.allocated().toString());
        assertTrue(reachesTest(uaf.allocated()), "allocated: " + uaf.allocated().frames());
        assertTrue(reachesTest(uaf.freed()), "freed: " + uaf.freed().frames());
        assertTrue(reachesTest(uaf.site()), "accessed: " + uaf.site().frames());
    }

    @Test
    void aLivelockReport_givesTheSpinningTasksFrames_downToItsOwnLoop() {
        Kernel k = Kernel.builder().seed(1).maxSteps(500).build();
        hmm4j.check.Checkers.install(k);
        Process.spawn(k, "spinner", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            byte[] b = new byte[1];
            while (b[0] != 1) { // waits for a value nobody writes: a runaway retry loop
                UserAccess.copyFromUser(k, b, base);
            }
        });
        Failure.StepBoundExceeded bound = assertSingleFailure(k.run(), Failure.StepBoundExceeded.class);
        Site s = bound.site();
        assertTrue(s.task().equals("spinner") && s.frames().size() > 1, s.toString());
        assertTrue(reachesTest(s), "the spinning task's frames reach its loop: " + s.frames());
    }
}
