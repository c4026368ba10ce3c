package hmm4j.kernel.mm.report;

import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.migrate.MigrateDevice;
import hmm4j.kernel.mm.migrate.MigrateVma;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.Mutex;
import org.junit.jupiter.api.Test;

/**
 * Deadlock reports on page locks and migration entries name the holder of the page lock and
 * where it took it; the deadlock's own site reaches the test's line past the model.
 */
class DeadlockReportTest {
    private static final String TEST = "DeadlockReportTest.";

    private static Failure.Deadlock deadlockOf(RunResult r) {
        assertEquals(1, r.failures().size(), () -> describe(r));
        return assertInstanceOf(Failure.Deadlock.class, r.failures().get(0), () -> describe(r));
    }

    private static String lineOf(Failure.Deadlock d, String task) {
        return d.blocked().stream().filter(l -> l.startsWith(task + " blocked on")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + task + ": " + d.blocked()));
    }

    @Test
    void aTaskBlockedInLockPage_namesTheHolderAndWhereItLockedThePage() {
        Failure.Deadlock d = null;
        for (long seed = 1; seed <= 40 && d == null; seed++) {
            Kernel k = checkedKernel(seed);
            Page page = PhysMem.of(k).allocPage();
            Mutex m = new Mutex(k, "dev->lock");
            k.spawnKthread("locker", t -> {
                page.lock();
                m.lock();
                m.unlock();
                page.unlock();
            });
            k.spawnKthread("waiter", t -> {
                m.lock();
                page.lock();
                page.unlock();
                m.unlock();
            });
            RunResult r = k.run();
            if (r.failures().stream().anyMatch(f -> f instanceof Failure.Deadlock)) {
                d = deadlockOf(r);
            }
        }
        assertNotNull(d, "no seed of 40 deadlocked");
        String line = lineOf(d, "waiter");
        assertTrue(line.contains("lock_page(") && line.contains("held by locker (locked at locker @ step"), line);
        assertTrue(line.contains(TEST + "lambda$aTaskBlockedInLockPage"), "the holder's site reaches the test: " + line);
        assertTrue(d.site().frames().stream().anyMatch(f -> f.startsWith(TEST)),
                "the deadlock's site reaches the test's line: " + d.site());
    }

    @Test
    void aFaultBlockedOnAMigrationEntry_namesThePageAndTheMigrationHoldingItsLock() {
        Kernel k = checkedKernel(1);
        Completion setUp = new Completion(k, "set-up");
        Completion never = new Completion(k, "never");
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[] {1}) != 0) {
                throw new IllegalStateException("set-up failed: " + base);
            }
            var device = hmm4j.kernel.sched.Clone.cloneVm(k, "migrator", t -> {
                mm.mmapReadLock();
                MigrateVma args = new MigrateVma(mm, mm.findVma(base), base, base + Pte.PAGE_SIZE, new long[1],
                        new long[1], null, MigrateVma.MIGRATE_VMA_SELECT_SYSTEM);
                int ret = MigrateDevice.migrateVmaSetup(args);
                mm.mmapReadUnlock();
                setUp.complete();
                if (ret == 0) {
                    never.waitForCompletion(); // the driver's bug: it never finishes the migration
                }
            });
            setUp.waitForCompletion();
            UserAccess.copyFromUser(k, new byte[1], base);
            device.join();
        });
        Failure.Deadlock d = deadlockOf(k.run());
        String line = lineOf(d, "proc");
        assertTrue(line.contains("migration entry at 0x") && line.contains("held by migrator (locked at migrator @ step"),
                line);
        assertTrue(line.contains("MigrateDevice.migrateVmaSetup") && line.contains(TEST), line);
    }
}
