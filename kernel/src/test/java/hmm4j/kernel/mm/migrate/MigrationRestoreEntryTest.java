package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pageAt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.writeInt;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_DEVICE_COHERENT;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_SYSTEM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * What {@code remove_migration_pte} puts back when a migration fails after its pages were
 * unmapped: the entry it restores keeps the page's dirtiness (a dirty CPU mapping of a
 * device-coherent page becomes the page's dirty flag in {@code try_to_migrate_one}, and the
 * restored entry is dirty again), keeps the migration entry's writability, whether the
 * migration was a {@code migrate_vma} or an eviction ({@code migrate_device_range}, which
 * reaches the mapped pages through {@code try_to_migrate}). Mutation testing of {@link MigrationEntries} found these unchecked.
 */
class MigrationRestoreEntryTest {

    private interface Body {
        void run(Kernel k, MmStruct mm, TestDevice dev) throws Exception;
    }

    private static void run(DevPagemap.Type type, Body body) {
        Kernel k = checkedKernel(3);
        TestDevice dev = new TestDevice(k, GPU, "dev0", 4, type);
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            body.run(k, MmStruct.of(self), dev);
            finished.set(true);
        });
        assertClean(k.run());
        assertTrue(finished.get());
        assertEquals(0, PhysMem.of(k).usedPages(), "no ordinary page left in use");
        assertEquals(0, dev.pgmap().pagesInUse(), "every device page went back to the driver");
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
    void aDirtyCoherentPage_whoseMigrationToRamFails_isRestoredDirtyAndWritable() {
        run(DevPagemap.Type.MEMORY_DEVICE_COHERENT, (k, mm, dev) -> {
            long a = mapAnon(mm, 2, RW);
            writeInt(k, a, 1);
            writeInt(k, a + PAGE, 2);
            assertEquals(2, migrate(dev, mm, a, 2, MIGRATE_VMA_SELECT_SYSTEM));
            Page cpage = pageAt(k, mm, a);
            assertTrue(cpage.pgmap() != null && !cpage.isDevicePrivate(), cpage.toString());
            // A clean folio under a dirty entry (as after writeback, then a CPU store): only the entry says so.
            cpage.clearFlag(Page.PG_DIRTY);
            writeInt(k, a, 11);
            assertTrue(Pte.isDirty(pte(mm, a)), Pte.toString(pte(mm, a)));
            assertFalse(cpage.isDirty());
            dev.failNextSystemAllocs(2);
            assertEquals(0, migrate(dev, mm, a, 2, MIGRATE_VMA_SELECT_DEVICE_COHERENT), "no system page for either");
            long back = pte(mm, a);
            assertTrue(Pte.isPresent(back) && Pte.isWrite(back), Pte.toString(back));
            assertEquals(cpage.pfn(), Pte.pfn(back), "the coherent page is mapped again");
            assertTrue(cpage.isDirty(), "try_to_migrate_one moved the entry's dirty bit to the page");
            assertTrue(Pte.isDirty(back), "and the restored entry is dirty: " + Pte.toString(back));
            assertTrue(Pte.isWrite(pte(mm, a + PAGE)), Pte.toString(pte(mm, a + PAGE)));
            assertEquals(11, readInt(k, a));
            assertEquals(2, readInt(k, a + PAGE));
            Mmap.munmap(mm, a, 2 * PAGE);
        });
    }

    @Test
    void aDirtyCoherentPage_whoseEvictionFails_isRestoredDirty_throughTryToMigrate() {
        run(DevPagemap.Type.MEMORY_DEVICE_COHERENT, (k, mm, dev) -> {
            long a = mapAnon(mm, 2, RW);
            writeInt(k, a, 5);
            writeInt(k, a + PAGE, 6);
            assertEquals(2, migrate(dev, mm, a, 2, MIGRATE_VMA_SELECT_SYSTEM));
            Page cpage = pageAt(k, mm, a);
            cpage.clearFlag(Page.PG_DIRTY);
            writeInt(k, a, 15);
            assertFalse(cpage.isDirty());
            // migrate_device_range finds the still-mapped pages through the rmap: try_to_migrate_one.
            dev.failNextSystemAllocs(2);
            assertEquals(0, dev.evictAll());
            long back = pte(mm, a);
            assertEquals(cpage.pfn(), Pte.pfn(back), "the coherent page is mapped again");
            assertTrue(Pte.isPresent(back) && Pte.isWrite(back), Pte.toString(back));
            assertTrue(cpage.isDirty(), "try_to_migrate_one moved the entry's dirty bit to the page");
            assertTrue(Pte.isDirty(back), "and the restored entry is dirty: " + Pte.toString(back));
            assertEquals(15, readInt(k, a));
            assertEquals(6, readInt(k, a + PAGE));
            Mmap.munmap(mm, a, 2 * PAGE);
        });
    }

    @Test
    void aSystemPageWhoseDeviceCopyFails_isRestoredDirty_andACleanOneClean() {
        run(DevPagemap.Type.MEMORY_DEVICE_PRIVATE, (k, mm, dev) -> {
            long a = mapAnon(mm, 6, RW);
            for (int i = 0; i < 6; i++) {
                writeInt(k, a + i * PAGE, 20 + i);
            }
            long[] before = new long[6];
            for (int i = 0; i < 6; i++) {
                before[i] = pte(mm, a + i * PAGE);
                assertTrue(Pte.isDirty(before[i]), Pte.toString(before[i]));
                // Clean folios under dirty entries: collection must move the entry's dirty bit to the folio.
                pageAt(k, mm, a + i * PAGE).clearFlag(Page.PG_DIRTY);
            }
            // Four device pages for six: the last two stay in system memory, restored from their migration entries.
            assertEquals(4, migrate(dev, mm, a, 6, MIGRATE_VMA_SELECT_SYSTEM));
            for (int i = 4; i < 6; i++) {
                long back = pte(mm, a + i * PAGE);
                assertTrue(Pte.isPresent(back) && Pte.isWrite(back), Pte.toString(back));
                assertEquals(Pte.pfn(before[i]), Pte.pfn(back));
                assertTrue(Pte.isDirty(back), "a dirty page is restored dirty: " + Pte.toString(back));
                assertTrue(pageAt(k, mm, a + i * PAGE).isDirty(), "the folio is dirty now");
                assertEquals(20 + i, readInt(k, a + i * PAGE));
            }
            Mmap.munmap(mm, a, 6 * PAGE);
        });
    }

    @Test
    void munmapOfACoherentPage_removesItsPlaceFromTheDeviceRmap() {
        run(DevPagemap.Type.MEMORY_DEVICE_COHERENT, (k, mm, dev) -> {
            long a = mapAnon(mm, 1, RW);
            writeInt(k, a, 3);
            assertEquals(1, migrate(dev, mm, a, 1, MIGRATE_VMA_SELECT_SYSTEM));
            Page cpage = pageAt(k, mm, a);
            assertEquals(1, dev.pgmap().rmapDescribe(cpage).size());
            Mmap.munmap(mm, a, PAGE);
            assertTrue(dev.pgmap().rmapDescribe(cpage).isEmpty(), dev.pgmap().rmapDescribe(cpage).toString());
        });
    }

    @Test
    void munmapDuringAnEviction_removesTheMigrationEntrysPlace_andThePageGoesBackToTheDriver() {
        run(DevPagemap.Type.MEMORY_DEVICE_PRIVATE, (k, mm, dev) -> {
            long a = mapAnon(mm, 1, RW);
            writeInt(k, a, 4);
            assertEquals(1, migrate(dev, mm, a, 1, MIGRATE_VMA_SELECT_SYSTEM));
            Page dpage = pageAt(k, mm, a);
            int n = dev.pgmap().nrPages();
            long[] src = new long[n];
            long[] dst = new long[n];
            MigrateDevice.migrateDeviceRange(k, src, dev.pgmap().startPfn(), n);
            assertTrue(Pte.isMigration(pte(mm, a)), Pte.toString(pte(mm, a)));
            assertEquals(0, Mmap.munmap(mm, a, PAGE), "the zap meets the migration entry");
            assertTrue(dev.pgmap().rmapDescribe(dpage).isEmpty(), dev.pgmap().rmapDescribe(dpage).toString());
            MigrateDevice.migrateDevicePages(k, src, dst, n);
            MigrateDevice.migrateDeviceFinalize(k, src, dst, n);
            assertEquals(1, dev.pagesFreed(), "finalize drops the last reference: page_free");
        });
    }
}
