package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Vma;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The error policy applied to device memory: a driver's misuse of its pgmap, its device
 * pages or a migration is a checker report at the misuse, in the driver's task, and the
 * driver does not get past it.
 */
class DeviceMisuseTest {

    /** The one device page of {@code dev} handed out and still in use. */
    private static Page pageInUse(TestDevice dev) {
        return dev.pgmap().pages().stream().filter(p -> p.state() == Page.State.IN_USE).findFirst().orElseThrow();
    }

    /** Runs {@code body} as process "proc" with a device of four pages; returns the run. */
    private static RunResult inProcess(long seed, MigrateHarness.Body body, AtomicBoolean after) {
        Kernel k = checkedKernel(seed);
        MigrateHarness.spawn(k, 4, new TestDevice[1], (kk, self, mm, dev, rec) -> {
            body.run(kk, self, mm, dev, rec);
            after.set(true);
        });
        return k.run();
    }

    @Test
    void zoneDevicePageInitOfAPageAlreadyHandedOut_isReported() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(1, (k, self, mm, dev, rec) -> {
            Page p = dev.allocDevicePage();
            DevPagemap.zoneDevicePageInit(p);
        }, after);
        Failure.InvariantViolation v = assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(KernelRules.PAGE_INIT_FREE_PAGE, v.rule());
        assertEquals("proc", v.site().task());
        assertFalse(after.get());
    }

    @Test
    void zoneDevicePageInitAfterMemunmapPages_isReported() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(2, (k, self, mm, dev, rec) -> {
            Page p = dev.pgmap().page(0);
            dev.pgmap().memunmapPages();
            DevPagemap.zoneDevicePageInit(p);
        }, after);
        Failure.InvariantViolation v = assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(KernelRules.PAGE_INIT_LIVE_PGMAP, v.rule());
        assertTrue(v.detail().contains("not a device-private page"), v.detail());
        assertFalse(after.get());
    }

    @Test
    void aSecondMemunmapPages_isReported() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(3, (k, self, mm, dev, rec) -> {
            dev.pgmap().memunmapPages();
            dev.pgmap().memunmapPages();
        }, after);
        Failure.InvariantViolation v = assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(KernelRules.MEMUNMAP_PAIRS_MEMREMAP, v.rule());
        assertTrue(v.detail().contains("DEAD"), v.detail());
        assertFalse(after.get());
    }

    @Test
    void aDestinationPageUnlockedBeforeMigrateVmaPages_isReported() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 3);
            dev.migrateToDevice(mm, a, 1, () -> pageInUse(dev).unlock());
        }, after);
        Failure.InvariantViolation v = assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(KernelRules.MIGRATE_DESTINATION_LOCKED, v.rule());
        assertEquals("proc", v.site().task());
        assertFalse(after.get());
    }

    @Test
    void migrateVmaSetupOnAVmaAlreadyUnmapped_isAUseAfterFreeAtTheSetup() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(6, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            mm.mmapReadLock();
            Vma stale = mm.vmaLookup(a);
            mm.mmapReadUnlock();
            assertEquals(0, Mmap.munmap(mm, a, 2 * MigrateHarness.PAGE));
            mm.mmapReadLock();
            MigrateDevice.migrateVmaSetup(new MigrateVma(mm, stale, a, a + MigrateHarness.PAGE, new long[1],
                    new long[1], MigrateHarness.GPU, MigrateVma.MIGRATE_VMA_SELECT_SYSTEM));
        }, after);
        Failure.UseAfterFree uaf = assertSingleFailure(r, Failure.UseAfterFree.class);
        assertEquals("migrate_vma_setup", uaf.access());
        assertTrue(uaf.object().startsWith("vma [0x"), uaf.object());
        assertEquals("proc", uaf.site().task());
        assertTrue(uaf.allocated().frames().stream().anyMatch(f -> f.startsWith("Mmap.mmap")), uaf.allocated().toString());
        assertTrue(uaf.freed().frames().stream().anyMatch(f -> f.startsWith("Mmap.munmap")), uaf.freed().toString());
        assertTrue(uaf.allocated().step() < uaf.freed().step() && uaf.freed().step() <= uaf.site().step());
        assertFalse(after.get());
    }

    @Test
    void aDriverPutOfADevicePageUnderMigration_isAPutWithoutGet() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(5, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 4);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            Page devicePage = pageInUse(dev);
            mm.mmapReadLock();
            dev.migrateLocked(mm, a, 1, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE, () -> {
                while (devicePage.refcount() > 0) {
                    devicePage.put();
                }
            });
            mm.mmapReadUnlock();
        }, after);
        Failure f = r.failures().get(0);
        Failure.RefcountError e = assertSingleFailure(r, Failure.RefcountError.class);
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem(), f.toString());
        assertTrue(e.detail().contains("still named by"), e.detail());
        assertEquals("proc", e.site().task());
        assertFalse(after.get());
    }
}
