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
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_SYSTEM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The restore path of {@code migrate_vma_setup}'s unmap, which mutation testing found
 * unchecked: a page holding a reference beyond its mapping (a pin, as GUP takes) cannot
 * migrate, so setup puts its mapping back at once, drops its lock and the migration's
 * reference, and clears its entry, while the pages around it are collected.
 */
class MigrationEntriesMutantsTest {

    @Test
    void aPageWithAnExtraReference_isRestoredBySetup_andTheOthersAreCollected() {
        Kernel k = checkedKernel(2);
        AtomicBoolean finished = new AtomicBoolean();
        TestDevice[] dev = new TestDevice[1];
        MigrateHarness.spawn(k, 8, dev, (kk, self, mm, d, rec) -> {
            long a = mapAnon(mm, 3, RW);
            fill(kk, a, 3, 7);
            long[] before = {pte(mm, a), pte(mm, a + PAGE), pte(mm, a + 2 * PAGE)};
            Page pinned = PhysMem.of(kk).pfnToPage(Pte.pfn(before[1]));
            pinned.get(); // an extra reference, as a GUP pin
            mm.mmapReadLock();
            Vma vma = mm.vmaLookup(a);
            long[] src = new long[3];
            long[] dst = new long[3];
            MigrateVma args = new MigrateVma(mm, vma, a, a + 3 * PAGE, src, dst, GPU, MIGRATE_VMA_SELECT_SYSTEM);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            assertEquals(2, args.cpages(), "the pinned page is not collected");
            assertEquals(0, src[1], "its entry is cleared");
            assertTrue((src[0] & MIGRATE_PFN_MIGRATE) != 0 && (src[2] & MIGRATE_PFN_MIGRATE) != 0);
            long back = pte(mm, a + PAGE);
            assertTrue(Pte.isPresent(back), "its mapping is back");
            assertEquals(Pte.pfn(before[1]), Pte.pfn(back));
            assertEquals(Pte.isWrite(before[1]), Pte.isWrite(back));
            assertTrue(Pte.isMigration(pte(mm, a)) && Pte.isMigration(pte(mm, a + 2 * PAGE)));
            assertFalse(pinned.isLocked());
            assertEquals(1, pinned.mapcount());
            assertEquals(2, pinned.refcount(), "the mapping's and the pin's; the migration's was dropped");
            MigrateDevice.migrateVmaPages(args);
            MigrateDevice.migrateVmaFinalize(args);
            mm.mmapReadUnlock();
            pinned.put();
            check(kk, a, 3, 7);
            finished.set(true);
        });
        RunResult r = k.run();
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(MigrateVma.UNMAP_RESTORE), r.marks()::toString);
        assertEquals(0, PhysMem.of(k).usedPages());
    }
}
