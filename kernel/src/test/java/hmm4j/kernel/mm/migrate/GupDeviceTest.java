package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.assertNoLeak;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.inProcess;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pageAt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.FolioPins;
import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GUP and device memory: a GUP (slow or fast, get or long-term pin) of a device-private page
 * faults it back to system memory through {@code migrate_to_ram} (the mirror sees that
 * migration's {@code MMU_NOTIFY_MIGRATE} invalidation with the device as owner) and returns the
 * system page; a pinned page is not migrated to the device ({@code migrate_vma_setup} skips it).
 */
class GupDeviceTest {

    @Test
    void getUserPages_ofADevicePrivatePage_migratesItBackAndReturnsTheSystemPage() {
        MigrateHarness.Run run = inProcess(71, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 5);
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null));
            rec.clear();
            Page[] pages = new Page[1];
            mm.mmapReadLock();
            try {
                assertEquals(1, Gup.getUserPages(mm, a, 1, Gup.FOLL_WRITE, pages));
            } finally {
                mm.mmapReadUnlock();
            }
            assertEquals(1, dev.faultsToRam());
            assertEquals(List.of(MigrateHarness.Recorder.line("MMU_NOTIFY_MIGRATE", a, a + PAGE, GPU)), rec.events());
            assertFalse(pages[0].isDevicePrivate());
            assertSame(pageAt(k, mm, a), pages[0]);
            assertTrue(Pte.isDevicePrivate(pte(mm, a + PAGE)), "the page not asked for stays on the device");
            pages[0].put();
            check(k, a, 2, 5);
        });
        assertNoLeak(run);
    }

    @Test
    void longtermPinFast_ofDevicePrivatePages_fallsBackToTheSlowPath_whichMigratesThemBack() {
        MigrateHarness.Run run = inProcess(72, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 6);
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null));
            Page[] pages = new Page[2];
            assertEquals(2, Gup.pinUserPagesFast(mm, a, 2, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, pages));
            assertEquals(2, dev.faultsToRam());
            FolioPins pins = FolioPins.of(k);
            for (Page p : pages) {
                assertFalse(p.isDevicePrivate());
                assertTrue(pins.folioMaybeDmaPinned(p));
            }
            assertEquals(0, dev.pgmap().pagesInUse());
            Gup.unpinUserPages(mm, pages, 2);
            check(k, a, 2, 6);
        });
        assertNoLeak(run);
    }

    @Test
    void aPinnedPage_isNotMigratedToTheDevice_theOthersAre() {
        MigrateHarness.Run run = inProcess(73, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 7);
            Page pinned = pageAt(k, mm, a);
            Page[] pages = new Page[1];
            mm.mmapReadLock();
            try {
                assertEquals(1, Gup.pinUserPages(mm, a, 1, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, pages));
            } finally {
                mm.mmapReadUnlock();
            }
            assertEquals(1, dev.migrateToDevice(mm, a, 2, null), "only the unpinned page moves");
            long e = pte(mm, a);
            assertTrue(Pte.isPresent(e) && Pte.isWrite(e), "the pinned page stays mapped: " + Pte.toString(e));
            assertSame(pinned, pageAt(k, mm, a));
            assertTrue(Pte.isDevicePrivate(pte(mm, a + PAGE)));
            Gup.unpinUserPages(mm, pages, 1);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null), "unpinned, it migrates");
            check(k, a, 2, 7);
        });
        assertNoLeak(run);
    }
}
