package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.writeInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Migration racing with CPU access, over many fixed seeds of the controlled runtime: the CPU
 * keeps counters in pages that a device thread moves to the device and back, that a second
 * CPU thread touches too, that an evictor pulls out of a chunk mapped by a parent and a
 * forked child. Every run must be clean (no lock-order, lifetime or refcount report, no
 * deadlock), every counter exact, and nothing may leak; across the seeds the interesting
 * interleavings (faults on device pages, waits on migration entries and page locks) must
 * actually occur.
 */
class MigrateConcurrencyTest {

    private static final int PAGES = 3;
    private static final int ROUNDS = 2;
    private static final int SEEDS = 40;
    private static final int COUNTER = 8;

    /** Adds one to the counter of each page, {@code rounds} times. */
    private static void increment(Kernel k, long a, int rounds) {
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < PAGES; i++) {
                long at = a + i * PAGE + COUNTER;
                writeInt(k, at, readInt(k, at) + 1);
            }
        }
    }

    private static void assertCounters(Kernel k, long a, int expected) {
        for (int i = 0; i < PAGES; i++) {
            assertEquals(expected, readInt(k, a + i * PAGE + COUNTER), "counter of page " + i);
        }
    }

    private static boolean traced(RunResult r, String op) {
        return r.trace().stream().anyMatch(e -> e.op().startsWith(op));
    }

    @Test
    void cpuAccessWhileADeviceThreadMigratesBackAndForth_keepsEveryCount() {
        java.util.Set<hmm4j.sim.Mark> marks = new java.util.HashSet<>();
        int faulted = 0;
        int waited = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            Kernel k = checkedKernel(seed);
            TestDevice[] dev = new TestDevice[1];
            AtomicBoolean done = new AtomicBoolean();
            MigrateHarness.spawn(k, 16, dev, (kk, self, mm, d, rec) -> {
                long a = mapAnon(mm, PAGES, RW);
                fill(kk, a, PAGES, 1);
                Task device = kk.spawnKthread("device", t -> {
                    for (int r = 0; r < ROUNDS; r++) {
                        assertTrue(d.migrateToDevice(mm, a, PAGES, null) >= 0);
                        assertTrue(d.migrateToSystem(mm, a, PAGES) >= 0);
                    }
                });
                increment(kk, a, ROUNDS);
                device.join();
                assertCounters(kk, a, ROUNDS);
                check(kk, a, PAGES, 1);
                done.set(true);
            });
            RunResult r = k.run();
            assertClean(r);
            assertTrue(done.get(), "seed " + seed);
            assertEquals(0, PhysMem.of(k).usedPages(), "seed " + seed);
            assertEquals(0, dev[0].pgmap().pagesInUse(), "seed " + seed);
            faulted += dev[0].faultsToRam() > 0 ? 1 : 0;
            waited += traced(r, "wait_event(migration_entry_wait)") ? 1 : 0;
            marks.addAll(r.marks());
            assertEquals(traced(r, "wait_event(migration_entry_wait)"), r.hit(Fault.MIGRATION_ENTRY_WAIT), "seed " + seed);
        }
        assertTrue(faulted > 0, "no seed had the CPU fault on a device page");
        assertTrue(waited > 0, "no seed had the CPU wait on a migration entry");
        assertTrue(marks.contains(MigrateVma.COLLECT_PAGE_BUSY), "no seed had the collection skip a locked page: "
                + marks);
    }

    @Test
    void twoCpuThreadsFaultingTheSameDevicePages_oneMigratesTheOtherWaits() {
        int lockWaits = 0;
        for (long seed = 100; seed < 100 + SEEDS; seed++) {
            Kernel k = checkedKernel(seed);
            TestDevice[] dev = new TestDevice[1];
            AtomicBoolean done = new AtomicBoolean();
            MigrateHarness.spawn(k, 16, dev, (kk, self, mm, d, rec) -> {
                long a = mapAnon(mm, PAGES, RW);
                fill(kk, a, PAGES, 2);
                assertEquals(PAGES, d.migrateToDevice(mm, a, PAGES, null));
                Task thread = Clone.cloneVm(kk, "thread", t -> check(kk, a, PAGES, 2));
                check(kk, a, PAGES, 2);
                thread.join();
                assertEquals(PAGES, d.pagesFreed(), "each device page migrated back once");
                done.set(true);
            });
            RunResult r = k.run();
            assertClean(r);
            assertTrue(done.get(), "seed " + seed);
            assertEquals(0, dev[0].pgmap().pagesInUse());
            lockWaits += traced(r, "folio_wait_locked") ? 1 : 0;
            assertEquals(traced(r, "folio_wait_locked"), r.hit(Fault.DEVICE_PRIVATE_LOCKED), "seed " + seed);
        }
        assertTrue(lockWaits > 0, "no seed had a fault wait for the page lock of a device page");
    }

    @Test
    void evictingWhileParentAndForkedChildWriteTheirCopies_keepsBothSidesExact() {
        int raced = 0;
        // More seeds than the other tests: a CPU fault on a device-private entry first tries the
        // per-VMA lock and retries under mmap_lock (as the kernel does), so the eviction wins the
        // race on most schedules.
        for (long seed = 200; seed < 200 + 4 * SEEDS; seed++) {
            Kernel k = checkedKernel(seed);
            TestDevice[] dev = new TestDevice[1];
            AtomicBoolean childDone = new AtomicBoolean();
            AtomicBoolean done = new AtomicBoolean();
            MigrateHarness.spawn(k, 16, dev, (kk, self, mm, d, rec) -> {
                long a = mapAnon(mm, PAGES, RW);
                fill(kk, a, PAGES, 3);
                assertEquals(PAGES, d.migrateToDevice(mm, a, PAGES, null));
                Task child = Process.fork(self, "child", c -> {
                    increment(kk, a, 3);
                    assertCounters(kk, a, 3);
                    check(kk, a, PAGES, 3);
                    childDone.set(MmStruct.of(c) != null);
                });
                Task evictor = kk.spawnKthread("evictor", t -> d.evictAll());
                increment(kk, a, 1);
                evictor.join();
                child.join();
                assertCounters(kk, a, 1);
                check(kk, a, PAGES, 3);
                done.set(true);
            });
            RunResult r = k.run();
            assertClean(r);
            assertTrue(done.get() && childDone.get(), "seed " + seed);
            assertEquals(0, PhysMem.of(k).usedPages(), "seed " + seed);
            assertEquals(0, dev[0].pgmap().pagesInUse(), "seed " + seed);
            raced += dev[0].faultsToRam() > 0 && dev[0].pagesFreed() == PAGES ? 1 : 0;
        }
        assertTrue(raced > 0, "no seed had CPU faults race with the eviction");
    }
}
