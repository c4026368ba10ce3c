package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.isLeaf;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.pmd;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.withThp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * What mutation testing left unchecked in {@link MigrateCollect}: a THP collected whole counts
 * as one collected page (so setup's unmap step runs and {@code cpages} is 1), and an anonymous
 * page mapped once that may be DMA-pinned is left alone at collection with its mark, and a
 * PTE-mapped page of a large device folio is collected once the folio is split (its mark).
 */
class MigrateCollectMutantsTest {
    private static final int NR = HugeMemory.HPAGE_PMD_NR;

    @Test
    void aThpCollectedWhole_isOneCollectedPage() {
        withThp((k, mm, dev, rec, a) -> {
            long before = pmd(mm, a);
            long[] src = new long[NR];
            long[] dst = new long[NR];
            mm.mmapReadLock();
            MigrateVma args = new MigrateVma(mm, mm.vmaLookup(a), a, a + Pte.PMD_SIZE, src, dst, GPU,
                    MigrateVma.MIGRATE_VMA_SELECT_SYSTEM | MigrateVma.MIGRATE_VMA_SELECT_COMPOUND);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            assertEquals(1, args.cpages(), "one compound entry, unmapped");
            assertEquals(NR, args.npages());
            assertEquals(MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND,
                    src[0] & (MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND));
            assertEquals(0, src[1]);
            assertEquals(0, src[NR - 1]);
            MigrateDevice.migrateVmaPages(args);
            MigrateDevice.migrateVmaFinalize(args);
            mm.mmapReadUnlock();
            assertTrue(isLeaf(mm, a));
            assertEquals(Pte.pfn(before), Pte.pfn(pmd(mm, a)), "restored: no destination");
            check(k, a, NR, 7);
        });
    }

    @Test
    void aPinnedAnonymousPage_isLeftAloneAtCollection_withItsMark() {
        Kernel k = checkedKernel(3);
        AtomicBoolean finished = new AtomicBoolean();
        TestDevice[] devs = new TestDevice[1];
        MigrateHarness.spawn(k, 4, devs, (kk, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(kk, a, 2, 4);
            long before = pte(mm, a);
            Page[] pages = new Page[1];
            assertEquals(1, Gup.pinUserPagesFast(mm, a, 1, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, pages));
            assertEquals(1, dev.migrateToDevice(mm, a, 2, null), "only the page that is not pinned");
            assertEquals(before, pte(mm, a), "the pinned page's entry was never touched");
            assertTrue(Pte.isDevicePrivate(pte(mm, a + PAGE)));
            assertFalse(pages[0].isLocked());
            Gup.unpinUserPages(mm, pages, 1);
            check(kk, a, 2, 4);
            finished.set(true);
        });
        RunResult r = k.run();
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(MigrateVma.COLLECT_PINNED), r.marks()::toString);
        assertFalse(r.hit(MigrateVma.UNMAP_RESTORE), "not collected, so nothing to restore: " + r.marks());
    }
    @Test
    void aPteMappedPageOfALargeDeviceFolio_isCollectedAfterTheFolioIsSplit_withItsMark() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            // Write-protecting the second half splits the device-private PMD into 512 entries.
            assertEquals(0, Mprotect.mprotect(mm, a + Pte.PMD_SIZE / 2, Pte.PMD_SIZE / 2, Mmap.PROT_READ));
            assertFalse(isLeaf(mm, a));
            assertFalse(k.marksHit().contains(MigrateVma.COLLECT_SPLIT_PTE_MAPPED));
            assertEquals(NR / 2, dev.toSystem(mm, a, NR / 2), "the writable half (its own VMA now), page by page");
            assertTrue(k.marksHit().contains(MigrateVma.COLLECT_SPLIT_PTE_MAPPED), k.marksHit()::toString);
            assertEquals(List.of(), dev.folioFrees, "split, not freed as a large folio");
            assertTrue(Pte.isPresent(pte(mm, a)) && Pte.isPresent(pte(mm, a + (NR / 2 - 1) * PAGE)));
            assertTrue(Pte.isDevicePrivate(pte(mm, a + NR / 2 * PAGE)), "the other half stays");
            check(k, a, NR / 2, 7);
        });
    }
}
