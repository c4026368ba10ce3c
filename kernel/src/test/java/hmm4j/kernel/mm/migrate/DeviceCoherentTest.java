package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pageAt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.writeInt;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_DEVICE_COHERENT;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_SYSTEM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@code MEMORY_DEVICE_COHERENT} memory: migrated pages are mapped by present entries the CPU
 * uses in place (no fault to RAM), they are selected for migration only with
 * {@code MIGRATE_VMA_SELECT_DEVICE_COHERENT} and their own owner, fork shares them
 * copy-on-write like ordinary pages, and the last reference sends them back to the driver.
 */
class DeviceCoherentTest {

    private interface Body {
        void run(Kernel k, MmStruct mm, TestDevice dev, Task self) throws Exception;
    }

    /** Runs {@code body} in process "proc" with a coherent device of 8 pages; asserts a clean, finished run. */
    private static TestDevice run(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        TestDevice dev = new TestDevice(k, GPU, "cgpu0", 8, DevPagemap.Type.MEMORY_DEVICE_COHERENT);
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            body.run(k, MmStruct.of(self), dev, self);
            finished.set(true);
        });
        assertClean(k.run());
        assertTrue(finished.get());
        assertEquals(0, PhysMem.of(k).usedPages(), "no ordinary page left in use");
        assertEquals(0, dev.pgmap().pagesInUse(), "every coherent page went back to the driver");
        return dev;
    }

    private static int migrate(TestDevice dev, MmStruct mm, long a, int npages, int select) {
        mm.mmapReadLock();
        try {
            return dev.migrateLocked(mm, a, npages, select, null);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    @Test
    void migratedPages_arePresentEntries_theCpuUsesInPlace() {
        TestDevice dev = run(1, (k, mm, d, self) -> {
            long a = mapAnon(mm, 4, RW);
            fill(k, a, 4, 3);
            assertEquals(4, migrate(d, mm, a, 4, MIGRATE_VMA_SELECT_SYSTEM));
            for (int i = 0; i < 4; i++) {
                long e = pte(mm, a + i * PAGE);
                assertTrue(Pte.isPresent(e) && Pte.isWrite(e), "a present writable entry: " + Pte.toString(e));
                Page p = pageAt(k, mm, a + i * PAGE);
                assertTrue(ZoneDevice.isDeviceCoherentPage(p) && ZoneDevice.isZoneDevicePage(p));
                assertFalse(ZoneDevice.isDevicePrivatePage(p));
                assertSame(d.pgmap(), p.pgmap());
                assertEquals(1, p.refcount());
                assertEquals(1, p.mapcount());
            }
            check(k, a, 4, 3);
            writeInt(k, a + PAGE, 42);
            assertEquals(42, readInt(k, a + PAGE));
            assertTrue(ZoneDevice.isDeviceCoherentPage(pageAt(k, mm, a + PAGE)), "the write went to device memory");
            assertEquals(0, d.faultsToRam(), "the CPU never faulted a coherent page back");
        });
        assertEquals(4, dev.pagesFreed(), "exit's unmap returned every page through page_free");
    }

    @Test
    void coherentPages_areSelectedOnlyWithTheCoherentFlag_andTheirOwner() {
        run(2, (k, mm, d, self) -> {
            long a = mapAnon(mm, 3, RW);
            fill(k, a, 3, 4);
            assertEquals(3, migrate(d, mm, a, 3, MIGRATE_VMA_SELECT_SYSTEM));
            assertEquals(0, migrate(d, mm, a, 3, MIGRATE_VMA_SELECT_SYSTEM), "system selection skips them");
            assertEquals(0, migrate(d, mm, a, 3, MIGRATE_VMA_SELECT_DEVICE_PRIVATE), "they are not device-private");
            TestDevice other = new TestDevice(k, new Object(), "cgpu1", 4, DevPagemap.Type.MEMORY_DEVICE_COHERENT);
            mm.mmapReadLock();
            try {
                assertEquals(0, other.migrateLocked(mm, a, 3, MIGRATE_VMA_SELECT_DEVICE_COHERENT, null),
                        "another owner's coherent selection skips them");
            } finally {
                mm.mmapReadUnlock();
            }
            assertEquals(3, migrate(d, mm, a, 3, MIGRATE_VMA_SELECT_DEVICE_COHERENT), "MIGRATE_TO_SYS of its own pages");
            for (int i = 0; i < 3; i++) {
                Page p = pageAt(k, mm, a + i * PAGE);
                assertFalse(ZoneDevice.isZoneDevicePage(p), "back in system memory");
            }
            assertEquals(3, d.pagesFreed());
            check(k, a, 3, 4);
        });
    }

    @Test
    void fork_sharesCoherentPagesCopyOnWrite_theParentsWriteCopiesToSystemMemory() {
        run(3, (k, mm, d, self) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 5);
            assertEquals(2, migrate(d, mm, a, 2, MIGRATE_VMA_SELECT_SYSTEM));
            Page shared = pageAt(k, mm, a);
            Completion written = new Completion(k, "parent wrote");
            Task child = Process.fork(self, "child", c -> {
                written.waitForCompletion();
                MmStruct cm = MmStruct.of(c);
                assertSame(shared, pageAt(k, cm, a), "the child still maps the coherent page");
                check(k, a, 2, 5);
            });
            assertEquals(2, shared.mapcount(), "parent and child map it");
            assertFalse(Pte.isWrite(pte(mm, a)), "write-protected for COW");
            writeInt(k, a, 77);
            Page copy = pageAt(k, mm, a);
            assertFalse(ZoneDevice.isZoneDevicePage(copy), "the parent's write made a system copy");
            assertEquals(1, shared.mapcount());
            written.complete();
            Process.waitpid(child);
            assertEquals(77, readInt(k, a));
            assertEquals(0, Mmap.munmap(mm, a, 2 * PAGE));
        });
    }

    @Test
    void deviceRangeEviction_migratesCoherentPagesBackWhereverTheyAreMapped() {
        run(4, (k, mm, d, self) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 6);
            assertEquals(2, migrate(d, mm, a, 2, MIGRATE_VMA_SELECT_SYSTEM));
            Completion evicted = new Completion(k, "evicted");
            Task child = Process.fork(self, "child", c -> {
                evicted.waitForCompletion();
                MmStruct cm = MmStruct.of(c);
                assertFalse(ZoneDevice.isZoneDevicePage(pageAt(k, cm, a)), "the child's mapping was migrated too");
                check(k, a, 2, 6);
            });
            assertEquals(2, d.evictAll());
            assertFalse(ZoneDevice.isZoneDevicePage(pageAt(k, mm, a)));
            check(k, a, 2, 6);
            evicted.complete();
            Process.waitpid(child);
        });
    }
}
