package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pageAt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

/**
 * {@code migrate_vma_check_page}'s allowance for ZONE_DEVICE pages (mm/migrate_device.c): a
 * device page may hold one reference more than the migration can account for and still pass
 * the check in {@code migrate_vma_setup}, while a system page with the same reference is
 * restored there. The page is then left where it is by {@code migrate_vma_pages}, whose
 * {@code folio_migrate_mapping} wants the exact count.
 */
class ZoneDeviceCheckPageTest {

    /** The setup of a one-page migration of {@code a}; {@code src[0]} after {@code migrate_vma_setup}, then pages and finalize. */
    private static long[] setupPagesFinalize(Kernel k, MmStruct mm, long a, int select, boolean[] migrated) {
        long[] src = new long[1];
        long[] dst = new long[1];
        mm.mmapReadLock();
        try {
            Vma vma = mm.vmaLookup(a);
            MigrateVma args = new MigrateVma(mm, vma, a, a + PAGE, src, dst, GPU, select);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            long afterSetup = src[0];
            PhysMem phys = PhysMem.of(k);
            if ((src[0] & MIGRATE_PFN_MIGRATE) != 0 && select == MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE) {
                Page spage = phys.allocPage();
                spage.lock();
                spage.copyFrom(MigratePfn.migratePfnToPage(phys, src[0]));
                dst[0] = MigratePfn.migratePfn(spage.pfn());
            }
            MigrateDevice.migrateVmaPages(args);
            migrated[0] = (src[0] & MIGRATE_PFN_MIGRATE) != 0 && dst[0] != 0;
            MigrateDevice.migrateVmaFinalize(args);
            return new long[] {afterSetup};
        } finally {
            mm.mmapReadUnlock();
        }
    }

    @Test
    void devicePrivatePage_withOneExtraReference_passesTheCheck_thenMigrateVmaPagesKeepsIt() {
        boolean[] migrated = new boolean[1];
        long[] afterSetup = new long[1];
        MigrateHarness.inProcess(41, 2, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 7);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            Page dpage = pageAt(k, mm, a);
            assertTrue(ZoneDevice.isDevicePrivatePage(dpage));
            dpage.get(); // a reference the migration cannot account for (a driver's get_page)
            afterSetup[0] = setupPagesFinalize(k, mm, a, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE, migrated)[0];
            assertTrue(Pte.isDevicePrivate(pte(mm, a)), "restored to the device page");
            dpage.put();
            check(k, a, 1, 7);
        });
        assertNotEquals(0, afterSetup[0] & MIGRATE_PFN_MIGRATE, "migrate_vma_check_page allows one extra reference on a ZONE_DEVICE page");
        assertEquals(false, migrated[0], "folio_migrate_mapping refuses the count");
    }

    @Test
    void devicePrivatePage_withTwoExtraReferences_failsTheCheck() {
        boolean[] migrated = new boolean[1];
        long[] afterSetup = new long[1];
        MigrateHarness.inProcess(42, 2, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 8);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            Page dpage = pageAt(k, mm, a);
            dpage.get();
            dpage.get();
            afterSetup[0] = setupPagesFinalize(k, mm, a, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE, migrated)[0];
            assertTrue(Pte.isDevicePrivate(pte(mm, a)));
            dpage.put();
            dpage.put();
            check(k, a, 1, 8);
        });
        assertEquals(0, afterSetup[0] & MIGRATE_PFN_MIGRATE);
        assertEquals(false, migrated[0]);
    }

    @Test
    void systemPage_withOneExtraReference_failsTheCheck() {
        boolean[] migrated = new boolean[1];
        long[] afterSetup = new long[1];
        MigrateHarness.inProcess(43, 2, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 9);
            Page page = pageAt(k, mm, a);
            page.get();
            afterSetup[0] = setupPagesFinalize(k, mm, a, MigrateVma.MIGRATE_VMA_SELECT_SYSTEM, migrated)[0];
            assertTrue(Pte.isPresent(pte(mm, a)));
            assertEquals(page.pfn(), Pte.pfn(pte(mm, a)));
            page.put();
            check(k, a, 1, 9);
        });
        assertEquals(0, afterSetup[0] & MIGRATE_PFN_MIGRATE);
        assertEquals(false, migrated[0]);
    }

    @Test
    void devicePrivatePage_withoutExtraReferences_migrates() {
        boolean[] migrated = new boolean[1];
        MigrateHarness.inProcess(44, 2, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 10);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            setupPagesFinalize(k, mm, a, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE, migrated);
            assertTrue(Pte.isPresent(pte(mm, a)));
            check(k, a, 1, 10);
        });
        assertTrue(migrated[0]);
    }
}
