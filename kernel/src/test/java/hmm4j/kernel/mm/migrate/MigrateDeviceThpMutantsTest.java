package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.isLeaf;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.pmd;
import static hmm4j.kernel.mm.migrate.ThpDeviceMigrationTest.withThp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What mutation testing left unchecked in the THP paths of {@link MigrateDevice}: a compound
 * hole filled with one huge destination (a device-private PMD) or with 512 base pages (each
 * its own PTE, the compound flag dropped), an entry after a split compound source, a tail of
 * the split source referenced meanwhile, a hole under a huge zero PMD (split before the
 * insert), and {@code migrate_device_range} over a large folio followed by a page in use.
 */
class MigrateDeviceThpMutantsTest {
    private static final int NR = HugeMemory.HPAGE_PMD_NR;
    private static final long HPAGE = Pte.PMD_SIZE;
    private static final int SYSTEM_COMPOUND = MigrateVma.MIGRATE_VMA_SELECT_SYSTEM
            | MigrateVma.MIGRATE_VMA_SELECT_COMPOUND;

    /** A PMD-aligned address inside a new anonymous VMA of 3 PMDs, with MADV_HUGEPAGE on its first two. */
    private static long hugeArea(MmStruct mm) {
        long raw = mapAnon(mm, 3L * NR, RW);
        long b = (raw + HPAGE - 1) & Pte.PMD_MASK;
        assertEquals(0, Madvise.madvise(mm, b, 2 * HPAGE, Madvise.MADV_HUGEPAGE));
        return b;
    }

    @Test
    void aCompoundHole_withAHugeDestination_becomesOneDevicePrivatePmd() {
        withThp((k, mm, dev, rec, a) -> {
            long b = hugeArea(mm);
            assertEquals(1, dev.toDevice(mm, b, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND), "one compound entry");
            assertTrue(isLeaf(mm, b), "migrate_vma_insert_huge_pmd_page");
            long e = pmd(mm, b);
            assertTrue(Pte.isDevicePrivate(e) && Pte.isHuge(e) && Pte.isWrite(e), Pte.toString(e));
            assertEquals(0, readInt(k, b + 7 * PAGE), "a zeroed folio, back on a CPU read");
        });
    }

    @Test
    void aCompoundHole_withBasePages_isFilledPageByPage_andLosesTheCompoundFlag() {
        withThp((k, mm, dev, rec, a) -> {
            long b = hugeArea(mm);
            TestDevice small = new TestDevice(k, GPU, "gpu1", NR);
            long[] src = new long[NR];
            long[] dst = new long[NR];
            mm.mmapReadLock();
            MigrateVma args = new MigrateVma(mm, mm.vmaLookup(b), b, b + HPAGE, src, dst, GPU, SYSTEM_COMPOUND);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            assertEquals(MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND, src[0], "one compound hole");
            for (int i = 0; i < NR; i++) {
                Page d = small.allocDevicePage();
                d.clear();
                dst[i] = MigratePfn.migratePfn(d.pfn());
            }
            MigrateDevice.migrateVmaPages(args);
            assertEquals(0, src[0] & MIGRATE_PFN_COMPOUND, "filled with base pages: no longer compound");
            for (int i = 0; i < NR; i++) {
                assertNotEquals(0, src[i] & MIGRATE_PFN_MIGRATE, "entry " + i + " migrated");
            }
            MigrateDevice.migrateVmaFinalize(args);
            mm.mmapReadUnlock();
            assertFalse(isLeaf(mm, b));
            for (int i = 0; i < NR; i++) {
                long e = pte(mm, b + i * PAGE);
                assertTrue(Pte.isDevicePrivate(e), i + ": " + Pte.toString(e));
                assertEquals(MigratePfn.pfn(dst[i]), Pte.pfn(e), "page " + i + " maps its own destination");
            }
            assertEquals(NR, small.pgmap().pagesInUse());
            assertEquals(NR, small.migrateToSystem(mm, b, NR));
        });
    }

    @Test
    void anEntryAfterASplitCompoundSource_isStillMigrated() {
        withThp((k, mm, dev, rec, a) -> {
            long b = hugeArea(mm);
            fill(k, b, NR, 5);
            assertTrue(isLeaf(mm, b), "a THP");
            dev.failNextHugeAlloc();
            // The THP (split, base destinations) and the hole after it.
            assertEquals(NR + 1, dev.toDevice(mm, b, NR + 1, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            assertTrue(Pte.isDevicePrivate(pte(mm, b + HPAGE)), "the hole after the THP was filled");
            assertTrue(Pte.isDevicePrivate(pte(mm, b + (NR - 1) * PAGE)));
            check(k, b, NR, 5);
        });
    }

    @Test
    void aTailOfASplitSource_referencedMeanwhile_aloneStaysInSystemMemory() {
        withThp((k, mm, dev, rec, a) -> {
            long b = hugeArea(mm);
            fill(k, b, NR, 6);
            Page[] tail = new Page[1];
            dev.afterSetup = args -> {
                tail[0] = PhysMem.of(k).pfnToPage(MigratePfn.pfn(args.src()[0]) + 5);
                tail[0].get();
            };
            dev.failNextHugeAlloc();
            assertEquals(NR - 1, dev.toDevice(mm, b, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            dev.afterSetup = null;
            long e = pte(mm, b + 5 * PAGE);
            assertTrue(Pte.isPresent(e), "the referenced tail is mapped again: " + Pte.toString(e));
            assertEquals(tail[0].pfn(), Pte.pfn(e));
            assertTrue(Pte.isDevicePrivate(pte(mm, b + 4 * PAGE)) && Pte.isDevicePrivate(pte(mm, b + 6 * PAGE)));
            assertTrue(Pte.isDevicePrivate(pte(mm, b)));
            tail[0].put();
            check(k, b, NR, 6);
        });
    }

    @Test
    void holesUnderAHugeZeroPmd_areFilledAfterItsSplit() {
        withThp((k, mm, dev, rec, a) -> {
            long b = hugeArea(mm);
            assertEquals(0, readInt(k, b + PAGE));
            assertTrue(isLeaf(mm, b), "a read fault maps the huge zero page");
            TestDevice small = new TestDevice(k, GPU, "gpu1", NR);
            assertEquals(NR, small.migrateToDevice(mm, b, NR, null), "every page of it");
            assertFalse(isLeaf(mm, b), "split_huge_pmd before the insert");
            Set<Long> pfns = new HashSet<>();
            for (int i = 0; i < NR; i++) {
                long e = pte(mm, b + i * PAGE);
                assertTrue(Pte.isDevicePrivate(e) && Pte.isWrite(e), i + ": " + Pte.toString(e));
                pfns.add(Pte.pfn(e));
            }
            assertEquals(NR, pfns.size());
            assertEquals(NR, small.migrateToSystem(mm, b, NR));
            assertEquals(0, readInt(k, b + 9 * PAGE));
        });
    }

    @Test
    void migrateDeviceRange_overALargeFolioThenAPageInUse_collectsBoth() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            long c = mapAnon(mm, 1, RW);
            fill(k, c, 1, 8);
            assertEquals(1, dev.toDevice(mm, c, 1, 0), "a base page of the second folio");
            long pfn = Pte.pfn(pte(mm, c));
            assertEquals(dev.pgmap().startPfn() + NR, pfn, "right after the first folio");
            long[] collected = dev.evictToSystem();
            assertNotEquals(0, collected[0] & MIGRATE_PFN_COMPOUND);
            assertEquals(MigratePfn.migratePfn(pfn) | MIGRATE_PFN_MIGRATE, collected[NR] & ~MigratePfn.MIGRATE_PFN_WRITE,
                    "the page after the folio's tails is collected too");
            assertTrue(Pte.isPresent(pte(mm, c)));
            check(k, c, 1, 8);
            check(k, a, NR, 7);
        });
    }
    @Test
    void aHugeZeroPmd_collectedWhole_andFilledWithBasePages_isSplitBeforeTheInserts() {
        withThp((k, mm, dev, rec, a) -> {
            long b = hugeArea(mm);
            assertEquals(0, readInt(k, b + PAGE));
            assertTrue(isLeaf(mm, b), "a read fault maps the huge zero page");
            TestDevice small = new TestDevice(k, GPU, "gpu1", NR);
            long[] src = new long[NR];
            long[] dst = new long[NR];
            mm.mmapReadLock();
            MigrateVma args = new MigrateVma(mm, mm.vmaLookup(b), b, b + HPAGE, src, dst, GPU, SYSTEM_COMPOUND);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            assertEquals(MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND, src[0], "a compound hole");
            assertTrue(isLeaf(mm, b), "the zero PMD stays until the pages step");
            for (int i = 0; i < NR; i++) {
                Page d = small.allocDevicePage();
                d.clear();
                dst[i] = MigratePfn.migratePfn(d.pfn());
            }
            MigrateDevice.migrateVmaPages(args);
            for (int i = 0; i < NR; i++) {
                assertNotEquals(0, src[i] & MIGRATE_PFN_MIGRATE, "entry " + i + " migrated");
            }
            MigrateDevice.migrateVmaFinalize(args);
            mm.mmapReadUnlock();
            assertFalse(isLeaf(mm, b), "split_huge_pmd of the zero PMD");
            for (int i = 0; i < NR; i++) {
                long e = pte(mm, b + i * PAGE);
                assertTrue(Pte.isDevicePrivate(e) && Pte.isWrite(e), i + ": " + Pte.toString(e));
                assertEquals(MigratePfn.pfn(dst[i]), Pte.pfn(e));
            }
            assertEquals(NR, small.migrateToSystem(mm, b, NR));
            assertEquals(0, readInt(k, b + 9 * PAGE));
        });
    }

    @Test
    void aDeviceFolioEvicted_withABaseDestination_isNotMigrated_andItsPmdRestored() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            long before = pmd(mm, a);
            int n = dev.pgmap().nrPages();
            long[] src = new long[n];
            long[] dst = new long[n];
            MigrateDevice.migrateDeviceRange(k, src, dev.pgmap().startPfn(), n);
            assertNotEquals(0, src[0] & MIGRATE_PFN_COMPOUND);
            PhysMem phys = PhysMem.of(k);
            long used = phys.usedPages();
            Page base = phys.allocPage();
            base.lock();
            dst[0] = MigratePfn.migratePfn(base.pfn());
            MigrateDevice.migrateDevicePages(k, src, dst, n);
            assertEquals(0, src[0] & (MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND),
                    "migrate_device_pages cannot split: neither migrated nor compound");
            MigrateDevice.migrateDeviceFinalize(k, src, dst, n);
            assertFalse(base.isLocked());
            assertEquals(used, phys.usedPages(), "the base destination was freed");
            assertTrue(isLeaf(mm, a));
            assertEquals(before, pmd(mm, a), "the same device-private PMD again");
            check(k, a, NR, 7);
        });
    }
}
