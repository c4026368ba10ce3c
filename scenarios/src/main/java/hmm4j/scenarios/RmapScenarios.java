package hmm4j.scenarios;

import hmm4j.drivers.notifier.OdpDirtyUmem;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.rule.SimRules;
import java.util.List;

/**
 * R1: invalidations issued by reverse-map walkers, which run with the folio lock and the
 * anon_vma rwsem held (mm/rmap.c): a callback must not take the lock of a page of its range.
 * Each run is a process whose device (an ODP umem) maps its pages for write while the process
 * reclaims them ({@code MADV_PAGEOUT}-style, {@link Vmscan#reclaimAnon}).
 */
public final class RmapScenarios {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final int PAGES = 2;

    private RmapScenarios() {
    }

    public static List<Scenario> all() {
        return List.of(
                new DesignScenario("R1-odp-dirty-lock", "ODP invalidate marks pages dirty with set_page_dirty_lock under reclaim",
                        Expectation.finds(SimRules.LOCK_ORDER), k -> reclaimWhileMirrored(k, true)),
                new DesignScenario("R1-odp-dirty-nolock", "ODP invalidate marks pages dirty with set_page_dirty (umem_mutex held)",
                        Expectation.clean().reaching(OdpDirtyUmem.DIRTIED_IN_INVALIDATE),
                        k -> reclaimWhileMirrored(k, false)));
    }

    /** The device faults the pages in for write, then the process reclaims them while the device may still fault. */
    private static void reclaimWhileMirrored(Kernel k, boolean takesPageLock) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, PAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (PAGES * PAGE)]) != 0) {
                throw new IllegalStateException("process could not set up its mapping: " + base);
            }
            OdpDirtyUmem umem = OdpDirtyUmem.create(k, mm, base, PAGES, takesPageLock);
            Task device = k.spawnKthread("odp-fault", t -> {
                if (!mm.mmgetNotZero()) {
                    return;
                }
                for (int round = 0; round < 2; round++) {
                    umem.deviceFault(mm);
                }
                mm.mmput();
            });
            Vmscan.reclaimAnon(mm, base, base + PAGES * PAGE);
            device.join();
            Vmscan.reclaimAnon(mm, base, base + PAGES * PAGE);
            umem.release();
        });
    }
}
