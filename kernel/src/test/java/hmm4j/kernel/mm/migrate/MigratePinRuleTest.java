package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The pin rule (spec I-3) for migration: a kernel thread that holds the mm structure only
 * ({@code mmgrab}) and calls {@code migrate_vma_setup} or {@code make_device_exclusive} is
 * reported at its first page-table or VMA access; with {@code mmget_not_zero} the same work is
 * clean.
 */
class MigratePinRuleTest {

    private interface Work {
        void run(MmStruct mm, Vma vma, long addr);
    }

    /** A process whose worker kthread, holding only {@code mmgrab}, runs {@code work} under the mmap read lock. */
    private static RunResult grabOnlyWorker(long seed, Work work) {
        Kernel k = checkedKernel(seed);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 1);
            mm.mmapReadLock();
            Vma vma = mm.vmaLookup(a);
            mm.mmapReadUnlock();
            Task worker = k.spawnKthread("worker", t -> {
                mm.mmgrab();
                mm.mmapReadLock();
                try {
                    work.run(mm, vma, a);
                } finally {
                    mm.mmapReadUnlock();
                    mm.mmdrop();
                }
            });
            worker.join();
        });
        return k.run();
    }

    @Test
    void migrateVmaSetup_byAKthreadWithoutMmget_isReported() {
        RunResult r = grabOnlyWorker(31, (mm, vma, a) -> MigrateDevice.migrateVmaSetup(
                new MigrateVma(mm, vma, a, a + PAGE, new long[1], new long[1], GPU,
                        MigrateVma.MIGRATE_VMA_SELECT_SYSTEM)));
        Failure.UnpinnedAddressSpaceUse f = assertSingleFailure(r, Failure.UnpinnedAddressSpaceUse.class);
        assertEquals("migrate_vma_setup", f.operation());
        assertEquals("worker", f.site().task());
    }

    @Test
    void makeDeviceExclusive_byAKthreadWithoutMmget_isReported() {
        RunResult r = grabOnlyWorker(32, (mm, vma, a) -> DeviceExclusive.makeDeviceExclusive(mm, a, GPU));
        Failure.UnpinnedAddressSpaceUse f = assertSingleFailure(r, Failure.UnpinnedAddressSpaceUse.class);
        assertEquals("vma_lookup", f.operation());
    }

    @Test
    void aKthreadWithMmgetNotZero_migratesCleanly() {
        Kernel k = checkedKernel(33);
        AtomicInteger migrated = new AtomicInteger();
        TestDevice[] dev = new TestDevice[1];
        MigrateHarness.spawn(k, 4, dev, (kk, self, mm, d, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(kk, a, 2, 2);
            Task worker = kk.spawnKthread("worker", t -> {
                if (mm.mmgetNotZero()) {
                    mm.mmapReadLock();
                    try {
                        migrated.set(d.migrateLocked(mm, a, 2, MigrateVma.MIGRATE_VMA_SELECT_SYSTEM, null));
                    } finally {
                        mm.mmapReadUnlock();
                        mm.mmput();
                    }
                }
            });
            worker.join();
            assertTrue(Pte.isDevicePrivate(pte(mm, a)));
            check(kk, a, 2, 2);
        });
        assertClean(k.run());
        assertEquals(2, migrated.get());
        assertEquals(0, dev[0].pgmap().pagesInUse());
    }
}
