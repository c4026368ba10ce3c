package hmm4j.scenarios;

import hmm4j.drivers.migrate.MigratingDevice;
import hmm4j.drivers.migrate.MigratingDevice.Design;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.scenarios.rules.ScenarioRules;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.AtomicT;
import hmm4j.sim.sync.Completion;
import java.util.List;

/**
 * S6: a driver's error path after {@code migrate_vma_setup}. Two processes each map and fill
 * two pages and ask one device of three device pages to migrate them, and neither gives its
 * pages back before both have tried, so one of the two migrations always runs out of device
 * memory part way. A process whose migration succeeded
 * reads its data back (CPU faults migrate it back to RAM) and checks it; one whose migration
 * failed does not touch the pages again, so an unfinalized migration is seen only at the end
 * of the run, by the page and migration state checks.
 */
public final class MigrationScenarios {
    private static final int PAGES = 2;

    private MigrationScenarios() {
    }

    /** The bug and its fix. */
    public static List<Scenario> all() {
        return List.of(
                new DesignScenario("S6-migrate-skips-finalize",
                        "device out of memory after migrate_vma_setup: returns -ENOMEM without migrate_vma_finalize",
                        Expectation.finds(KernelRules.MIGRATE_FINALIZED), k -> setUp(k, Design.SKIPS_FINALIZE_ON_ERROR)),
                new DesignScenario("S6-migrate-finalizes",
                        "device out of memory after migrate_vma_setup: migrate_vma_pages and _finalize, then -ENOMEM",
                        Expectation.clean().reaching(MigratingDevice.OUT_OF_DEVICE_MEMORY),
                        k -> setUp(k, Design.FINALIZES_ON_ERROR)));
    }

    /** One run: the device and the two processes. */
    static void setUp(Kernel k, Design design) {
        MigratingDevice dev = new MigratingDevice(k, "migrating-device", 3, design);
        AtomicT tried = new AtomicT(k, "tried", 0);
        Completion bothTried = new Completion(k, "both-tried");
        for (int p = 0; p < 2; p++) {
            int marker = 10 * (p + 1);
            Process.spawn(k, "process" + p, self -> {
                MmStruct mm = MmStruct.of(self);
                long a = Mmap.mmapAnonymous(mm, PAGES * Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                for (int i = 0; i < PAGES; i++) {
                    UserAccess.copyToUser(k, a + i * Pte.PAGE_SIZE, new byte[] {(byte) (marker + i)});
                }
                int ret = dev.migrateToDevice(mm, a, PAGES);
                if (tried.incReturn() == 2) {
                    bothTried.completeAll();
                } else {
                    bothTried.waitForCompletion();
                }
                if (ret < 0) {
                    return;
                }
                for (int i = 0; i < PAGES; i++) {
                    byte[] b = new byte[1];
                    UserAccess.copyFromUser(k, b, a + i * Pte.PAGE_SIZE);
                    if (b[0] != (byte) (marker + i)) {
                        k.report(new Failure.InvariantViolation(ScenarioRules.MIGRATED_DATA,
                                "read " + b[0] + " back from page " + i + ", wrote " + (marker + i), k.site()));
                    }
                }
            });
        }
    }
}
