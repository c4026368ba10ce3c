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
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_SYSTEM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mremap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Device-coherent pages under GUP and mremap: a {@code FOLL_LONGTERM} pin moves them to
 * system memory before it pins ({@code check_and_migrate_movable_folios}), a short-term
 * reference does not, and mremap moves their device rmap places with their entries.
 */
class CoherentGupMremapTest {

    private interface Body {
        void run(Kernel k, MmStruct mm, TestDevice dev);
    }

    private static void run(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        TestDevice dev = new TestDevice(k, GPU, "cgpu0", 8, DevPagemap.Type.MEMORY_DEVICE_COHERENT);
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            body.run(k, MmStruct.of(self), dev);
            finished.set(true);
        });
        assertClean(k.run());
        assertTrue(finished.get());
        assertEquals(0, PhysMem.of(k).usedPages(), "no ordinary page left in use");
        assertEquals(0, dev.pgmap().pagesInUse(), "every coherent page went back to the driver");
    }

    private static void migrate(TestDevice dev, MmStruct mm, long a, int npages) {
        mm.mmapReadLock();
        try {
            assertEquals(npages, dev.migrateLocked(mm, a, npages, MIGRATE_VMA_SELECT_SYSTEM, null));
        } finally {
            mm.mmapReadUnlock();
        }
    }

    @Test
    void aLongtermPin_migratesCoherentPagesToSystemMemoryFirst_aShortTermGetDoesNot() {
        for (long seed = 1; seed <= 4; seed++) {
            run(seed, (k, mm, dev) -> {
                long a = mapAnon(mm, 4, RW);
                fill(k, a, 4, 5);
                migrate(dev, mm, a, 4);
                Page[] pages = new Page[4];

                assertEquals(2, Gup.getUserPagesFast(mm, a, 2, Gup.FOLL_WRITE, pages));
                assertTrue(ZoneDevice.isDeviceCoherentPage(pages[0]), "a short-term reference takes the page as it is");
                pages[0].put();
                pages[1].put();

                assertEquals(2, Gup.pinUserPagesFast(mm, a + 2 * PAGE, 2, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, pages));
                for (int i = 0; i < 2; i++) {
                    assertFalse(ZoneDevice.isZoneDevicePage(pages[i]), "pinned in system memory: " + pages[i]);
                    assertEquals(pages[i], pageAt(k, mm, a + (2 + i) * PAGE), "and mapped there");
                }
                Gup.unpinUserPages(mm, pages, 2);
                assertTrue(ZoneDevice.isDeviceCoherentPage(pageAt(k, mm, a)), "the pages not pinned stay");
                check(k, a, 4, 5);
                assertEquals(0, Mmap.munmap(mm, a, 4 * PAGE));
            });
        }
    }

    @Test
    void mremap_movesCoherentEntriesWithTheirDeviceRmapPlaces_soAnEvictionFindsThem() {
        run(7, (k, mm, dev) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 9);
            migrate(dev, mm, a, 2);
            long to = a + 64 * PAGE;
            assertEquals(to, Mremap.mremap(mm, a, 2 * PAGE, 2 * PAGE,
                    Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, to));
            assertTrue(ZoneDevice.isDeviceCoherentPage(pageAt(k, mm, to)), "moved as they are");
            check(k, to, 2, 9);
            assertEquals(0, Mmap.munmap(mm, to, 2 * PAGE), "the unmap finds the moved rmap places");
        });
    }
}
