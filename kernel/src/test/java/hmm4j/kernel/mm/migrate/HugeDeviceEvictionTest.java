package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.isLeaf;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.pmd;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.withThp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import org.junit.jupiter.api.Test;

/**
 * Eviction of a huge device-private folio ({@code migrate_device_range}, as a driver's release
 * does) that finds no destination: the folio is collected as one compound entry, its mappings
 * become migration entries through {@code try_to_migrate} (one PMD migration entry for a PMD
 * mapping; one entry per page where the PMD was split), and finalize restores each to the very
 * page it named, with its writability. Mutation testing of {@link MigrationEntries} found the
 * large-folio unmap and restore unchecked by the kernel module's own tests.
 */
class HugeDeviceEvictionTest {
    private static final int NR = HugeMemory.HPAGE_PMD_NR;
    private static final long HPAGE = Pte.PMD_SIZE;

    @Test
    void aPmdMappedDeviceFolio_isCollectedAsOneCompoundEntry_andItsPmdRestored() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND), "one compound entry");
            long before = pmd(mm, a);
            assertTrue(Pte.isDevicePrivate(before) && Pte.isHuge(before), Pte.toString(before));
            rec.clear();
            long[] src = dev.evictWithoutDestination();
            int compound = 0;
            for (long e : src) {
                if ((e & MigratePfn.MIGRATE_PFN_COMPOUND) != 0) {
                    compound++;
                }
            }
            assertEquals(1, compound, "the folio is one compound entry");
            long after = pmd(mm, a);
            assertTrue(isLeaf(mm, a), "still one PMD");
            assertTrue(Pte.isDevicePrivate(after) && Pte.isWrite(after), Pte.toString(after));
            assertEquals(Pte.pfn(before), Pte.pfn(after), "the same folio");
            assertFalse(rec.events().isEmpty(), "the unmap was an invalidation");
            assertTrue(rec.events().get(0).startsWith("MMU_NOTIFY_CLEAR [" + Long.toHexString(a) + ", "
                    + Long.toHexString(a + HPAGE) + ")"), rec.events().toString());
            assertEquals(NR, dev.toSystem(mm, a, NR) * NR, "and it still migrates back whole");
            check(k, a, NR, 7);
        });
    }

    @Test
    void aSplitDeviceFolio_isUnmappedAndRestoredPageByPage_eachToItsOwnPfnAndWritability() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            long head = Pte.pfn(pmd(mm, a));
            // Write-protecting the second half splits the device-private PMD into 512 entries.
            assertEquals(0, Mprotect.mprotect(mm, a + HPAGE / 2, HPAGE / 2, Mmap.PROT_READ));
            assertFalse(isLeaf(mm, a), "the PMD was split");
            rec.clear();
            dev.evictWithoutDestination();
            for (int i = 0; i < NR; i++) {
                long e = MigrateHarness.pte(mm, a + i * PAGE);
                assertTrue(Pte.isDevicePrivate(e), i + ": " + Pte.toString(e));
                assertEquals(head + i, Pte.pfn(e), "page " + i + " names its own pfn again");
                assertEquals(i < NR / 2, Pte.isWrite(e), "page " + i + " keeps its writability");
            }
            assertEquals(NR, rec.events().stream().filter(e -> e.startsWith("MMU_NOTIFY_CLEAR")).count(),
                    "one CLEAR per mapped page: " + rec.events().size());
            long third = a + 3 * PAGE;
            assertTrue(rec.events().stream().anyMatch(e -> e.startsWith("MMU_NOTIFY_CLEAR [" + Long.toHexString(third)
                    + ", " + Long.toHexString(third + PAGE) + ")")), "each CLEAR covers its one page: " + rec.events().get(3));
            assertEquals(0, Mprotect.mprotect(mm, a + HPAGE / 2, HPAGE / 2, Mmap.PROT_READ | Mmap.PROT_WRITE));
            dev.toSystem(mm, a, NR);
            check(k, a, NR, 7);
        });
    }

    @Test
    void aFolioWithAnExtraReferenceOnATail_isNotMigrated_andEveryEntryIsRestored() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            long head = Pte.pfn(pmd(mm, a));
            assertEquals(0, Mprotect.mprotect(mm, a + HPAGE / 2, HPAGE / 2, Mmap.PROT_READ));
            hmm4j.kernel.mm.Page tail = dev.pgmap().page((int) (head - dev.pgmap().startPfn()) + 300);
            tail.get();
            tail.get(); // two: a ZONE_DEVICE page is allowed one reference beyond its mappings
            long[] src = dev.evictWithoutDestination();
            tail.put();
            tail.put();
            assertEquals(0, src[(int) (head - dev.pgmap().startPfn())], "migrate_vma_check_page fails for the folio");
            for (int i = 0; i < NR; i++) {
                long e = MigrateHarness.pte(mm, a + i * PAGE);
                assertTrue(Pte.isDevicePrivate(e) && Pte.pfn(e) == head + i, i + ": " + Pte.toString(e));
            }
            assertEquals(0, Mmap.munmap(mm, a, HPAGE));
        });
    }

    @Test
    void munmapOfADevicePrivatePmd_releasesEveryPage_andTheFolioGoesBackToTheDriverOnce() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            long head = Pte.pfn(pmd(mm, a));
            hmm4j.kernel.mm.Page tail = dev.pgmap().page((int) (head - dev.pgmap().startPfn()) + 511);
            assertEquals(1, dev.pgmap().rmapDescribe(tail).size(), "the last page has its place");
            assertEquals(0, Mmap.munmap(mm, a, HPAGE));
            assertEquals(java.util.List.of("0x" + Long.toHexString(head) + " order 9"), dev.folioFrees,
                    "zap_huge_pmd of the device-private PMD frees the folio once");
            assertTrue(dev.pagesFreed.isEmpty(), "no page is freed on its own: " + dev.pagesFreed.size());
            assertEquals(0, dev.pgmap().pagesInUse());
            assertTrue(dev.pgmap().rmapDescribe(tail).isEmpty(), "its place is gone: " + dev.pgmap().rmapDescribe(tail));
        });
    }

    @Test
    void aPteMappedDeviceFolioWithOnePageUnmapped_isStillEvictedWhole_andTheFolioFreedOnce() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            long head = Pte.pfn(pmd(mm, a));
            assertEquals(0, Mprotect.mprotect(mm, a + HPAGE / 2, HPAGE / 2, Mmap.PROT_READ));
            // Unmapping page 3 drops its only reference; the folio lives on in its other 511 pages.
            assertEquals(0, Mmap.munmap(mm, a + 3 * PAGE, PAGE));
            assertEquals(java.util.List.of(), dev.folioFrees, "the folio is still in use");
            long[] src = dev.evictToSystem();
            int at = (int) (head - dev.pgmap().startPfn());
            assertTrue((src[at] & MigratePfn.MIGRATE_PFN_MIGRATE) != 0
                    && (src[at] & MigratePfn.MIGRATE_PFN_COMPOUND) != 0,
                    "folio_try_get of the folio succeeds: one compound entry, " + Long.toHexString(src[at]));
            for (int i = 0; i < NR; i++) {
                long e = MigrateHarness.pte(mm, a + i * PAGE);
                if (i == 3) {
                    assertEquals(0, e, "the unmapped page stays unmapped");
                    continue;
                }
                assertTrue(Pte.isPresent(e) && !Pte.isDevicePrivate(e), i + ": " + Pte.toString(e));
                assertEquals(i < NR / 2, Pte.isWrite(e), "page " + i + " keeps its writability");
            }
            assertEquals(java.util.List.of("0x" + Long.toHexString(head) + " order 9"), dev.folioFrees,
                    "the device folio goes back to the driver once");
            assertTrue(dev.pagesFreed.isEmpty(), "no page on its own: " + dev.pagesFreed.size());
            assertEquals(0, dev.pgmap().pagesInUse());
            assertEquals(7 * 1000 + 4, MigrateHarness.readInt(k, a + 4 * PAGE), "the contents came along");
            assertEquals(-(7 * 1000 + 511), MigrateHarness.readInt(k, a + 511 * PAGE + PAGE - 4));
        });
    }
}
