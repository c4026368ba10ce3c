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
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_SYSTEM;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageCache;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code migrate_vma_setup} / {@code _pages} / {@code _finalize} in one task: what is
 * collected and how it is encoded, data and accounting across a round trip, holes filled with
 * fresh device pages, the MIGRATE invalidations and their owner, the pages that must not
 * migrate, the {@code -EINVAL} answers and the order of the three calls.
 */
class MigrateVmaTest {

    private static final int EINVAL = -Errno.EINVAL;

    @Test
    void roundTrip_toTheDeviceAndBack_keepsTheDataAndBalancesEveryCount() {
        MigrateHarness.Run run = inProcess(1, 16, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 4, RW);
            fill(k, a, 4, 7);
            PhysMem phys = PhysMem.of(k);
            long used = phys.usedPages();
            assertEquals(4, dev.migrateToDevice(mm, a, 4, null));
            for (int i = 0; i < 4; i++) {
                long e = pte(mm, a + i * PAGE);
                assertTrue(Pte.isDevicePrivate(e) && Pte.isWrite(e), Pte.toString(e));
                Page d = pageAt(k, mm, a + i * PAGE);
                assertSame(GPU, d.devicePrivateOwner());
                assertEquals(1, d.refcount(), "one reference: the mapping's");
                assertEquals(1, d.mapcount());
                assertFalse(d.isLocked());
                assertTrue(d.isAnon());
                assertEquals(7000 + i, d.readInt(0), "the device memory holds the data");
            }
            assertEquals(used - 4, phys.usedPages(), "the system pages went back to the allocator");
            assertEquals(4, dev.pgmap().pagesInUse());

            assertEquals(4, dev.migrateToSystem(mm, a, 4));
            for (int i = 0; i < 4; i++) {
                long e = pte(mm, a + i * PAGE);
                assertTrue(Pte.isPresent(e) && Pte.isWrite(e), Pte.toString(e));
                Page p = pageAt(k, mm, a + i * PAGE);
                assertEquals(1, p.refcount());
                assertEquals(1, p.mapcount());
                assertTrue(p.isAnon() && !p.isLocked());
            }
            assertEquals(0, dev.pgmap().pagesInUse());
            assertEquals(4, dev.pagesFreed(), "page_free for every device page");
            check(k, a, 4, 7);
            assertEquals(0, dev.faultsToRam(), "no CPU fault was needed");
        });
        assertNoLeak(run);
    }

    @Test
    void holesAndZeroPages_becomeFreshZeroedDevicePages_withASecondMigrateInvalidationForTheInsert() {
        MigrateHarness.Run run = inProcess(2, 16, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 3, RW);
            assertEquals(0, readInt(k, a + PAGE));
            assertTrue(Pte.isZero(pte(mm, a + PAGE)));
            rec.clear();
            assertEquals(3, dev.migrateToDevice(mm, a, 3, null));
            String migrate = MigrateHarness.Recorder.line("MMU_NOTIFY_MIGRATE", a, a + 3 * PAGE, GPU);
            assertEquals(List.of(migrate, migrate), rec.events(),
                    "one around the collection, one from the first hole to the end around the inserts");
            for (int i = 0; i < 3; i++) {
                long e = pte(mm, a + i * PAGE);
                assertTrue(Pte.isDevicePrivate(e) && Pte.isWrite(e), "writable VMA: " + Pte.toString(e));
                Page d = pageAt(k, mm, a + i * PAGE);
                assertEquals(0, d.readInt(0));
                assertEquals(1, d.refcount());
                assertEquals(1, d.mapcount());
            }
            assertEquals(0, PhysMem.of(k).usedPages());
            rec.clear();
            assertEquals(0, readInt(k, a + PAGE), "a CPU read brings it back");
            assertEquals(1, dev.faultsToRam());
            assertEquals(List.of(MigrateHarness.Recorder.line("MMU_NOTIFY_MIGRATE", a + PAGE, a + 2 * PAGE, GPU)),
                    rec.events(), "migrate_to_ram: one page, owned by the device");
            assertTrue(Pte.isPresent(pte(mm, a + PAGE)));
        });
        assertNoLeak(run);
    }

    @Test
    void aZeroPageEntry_isCollectedOnlyWithSelectSystem() {
        MigrateHarness.Run run = inProcess(4, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            assertEquals(0, readInt(k, a), "a read fault maps the zero page");
            assertTrue(Pte.isZero(pte(mm, a)));
            mm.mmapReadLock();
            try {
                Vma vma = mm.vmaLookup(a);
                long[] src = {-1};
                MigrateVma args = new MigrateVma(mm, vma, a, a + PAGE, src, new long[1], GPU,
                        MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE);
                assertEquals(0, MigrateDevice.migrateVmaSetup(args));
                assertEquals(0, src[0], "not selected without SELECT_SYSTEM");
                assertEquals(0, args.cpages());
                MigrateDevice.migrateVmaPages(args);
                MigrateDevice.migrateVmaFinalize(args);
                args = new MigrateVma(mm, vma, a, a + PAGE, src, new long[1], GPU, MIGRATE_VMA_SELECT_SYSTEM);
                assertEquals(0, MigrateDevice.migrateVmaSetup(args));
                assertEquals(MIGRATE_PFN_MIGRATE, src[0], "a hole to fill with SELECT_SYSTEM");
                MigrateDevice.migrateVmaPages(args);
                MigrateDevice.migrateVmaFinalize(args);
            } finally {
                mm.mmapReadUnlock();
            }
            assertTrue(Pte.isZero(pte(mm, a)), "nothing inserted: the zero page stays");
        });
        assertNoLeak(run);
    }

    @Test
    void setup_encodesEachKindOfEntry_andWithoutDestinationsEverythingIsRestored() {
        MigrateHarness.Run run = inProcess(3, 16, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 6, RW);
            fill(k, a, 2, 3);
            assertEquals(1, dev.migrateToDevice(mm, a + 4 * PAGE, 1, null));
            assertEquals(0, readInt(k, a + 3 * PAGE));
            assertEquals(0, Mmap.munmap(mm, a + 5 * PAGE, PAGE));
            mm.mmapReadLock();
            Vma vma = mm.vmaLookup(a);
            // page 1 read-only, as after mprotect of a part: set by hand (same page, write bit off)
            mm.pageTableLock().lock();
            mm.pgd("test").set(a + PAGE, Pte.wrprotect(mm.pgd("test").get(a + PAGE)));
            mm.pageTableLock().unlock();
            long[] before = new long[5];
            for (int i = 0; i < 5; i++) {
                before[i] = pte(mm, a + i * PAGE);
            }
            long[] src = new long[5];
            long[] dst = {-1, -1, -1, -1, -1};
            MigrateVma args = new MigrateVma(mm, vma, a, a + 5 * PAGE, src, dst, GPU, MIGRATE_VMA_SELECT_SYSTEM);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            long p0 = Pte.pfn(before[0]);
            long p1 = Pte.pfn(before[1]);
            assertArrayEquals(new long[] {
                MigratePfn.migratePfn(p0) | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE,
                MigratePfn.migratePfn(p1) | MIGRATE_PFN_MIGRATE,
                MIGRATE_PFN_MIGRATE,
                MIGRATE_PFN_MIGRATE,
                0}, src, "present RW, present RO, none, zero page, device page not selected");
            assertArrayEquals(new long[5], dst, "dst zeroed");
            assertEquals(5, args.npages());
            assertEquals(4, args.cpages());
            assertEquals(a + 5 * PAGE, args.end());
            assertTrue(Pte.isMigration(pte(mm, a)) && Pte.isWrite(pte(mm, a)));
            assertTrue(Pte.isMigration(pte(mm, a + PAGE)) && !Pte.isWrite(pte(mm, a + PAGE)));
            assertTrue(Pte.isZero(pte(mm, a + 3 * PAGE)), "a zero entry stays until a page is inserted");
            Page page0 = PhysMem.of(k).pfnToPage(p0);
            assertTrue(page0.isLocked());
            assertEquals(0, page0.mapcount());
            assertEquals(1, page0.refcount(), "the mapping's reference is now the migration's");

            MigrateDevice.migrateVmaPages(args);
            assertEquals(0, src[0] & MIGRATE_PFN_MIGRATE, "no destination: not migrated");
            MigrateDevice.migrateVmaFinalize(args);
            mm.mmapReadUnlock();
            for (int i = 0; i < 5; i++) {
                assertEquals(Pte.pfn(before[i]), Pte.pfn(pte(mm, a + i * PAGE)), "restored " + i);
                assertEquals(Pte.type(before[i]), Pte.type(pte(mm, a + i * PAGE)));
                assertEquals(Pte.isWrite(before[i]), Pte.isWrite(pte(mm, a + i * PAGE)));
            }
            assertFalse(page0.isLocked());
            assertEquals(1, page0.mapcount());
            assertEquals(1, page0.refcount());
            check(k, a, 2, 3);
            assertEquals(1, dev.migrateToSystem(mm, a + 4 * PAGE, 1));
        });
        assertNoLeak(run);
    }

    @Test
    void selection_systemMemoryOrOwnDevicePagesOnly() {
        Object otherOwner = new Object();
        MigrateHarness.Run run = inProcess(4, 16, (k, self, mm, dev, rec) -> {
            TestDevice other = new TestDevice(k, otherOwner, "gpu1", 8);
            long a = mapAnon(mm, 4, RW);
            fill(k, a, 4, 4);
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null));
            assertEquals(2, other.migrateToDevice(mm, a, 4, null), "system pages only: gpu0's are not system memory");
            assertSame(GPU, pageAt(k, mm, a).devicePrivateOwner());
            assertSame(otherOwner, pageAt(k, mm, a + 2 * PAGE).devicePrivateOwner());
            assertEquals(2, other.migrateToSystem(mm, a, 4), "its own pages only");
            assertSame(GPU, pageAt(k, mm, a + PAGE).devicePrivateOwner());
            assertEquals(2, dev.migrateToSystem(mm, a, 4));
            check(k, a, 4, 4);
            assertEquals(0, other.pgmap().pagesInUse());
        });
        assertNoLeak(run);
    }

    @Test
    void sharedAnonymousPages_areCollectedButNotMigrated_privateFileCopiesAre() {
        MigrateHarness.Run run = inProcess(5, 16, (k, self, mm, dev, rec) -> {
            long s = Mmap.mmap(mm, 0, 2 * PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            fill(k, s, 2, 5);
            assertEquals(0, dev.migrateToDevice(mm, s, 2, null), "page-cache pages do not go to device memory");
            assertTrue(Pte.isPresent(pte(mm, s)) && Pte.isWrite(pte(mm, s)));
            check(k, s, 2, 5);
            assertEquals(0, dev.pgmap().pagesInUse(), "the device pages allocated for them were freed");

            ShmemFile file = PageCache.of(k).createFile("data", 2 * PAGE);
            long f = Mmap.mmap(mm, 0, 2 * PAGE, RW, Mmap.MAP_PRIVATE, file, 0);
            fill(k, f, 2, 6);
            assertEquals(2, dev.migrateToDevice(mm, f, 2, null), "private COW copies are anonymous");
            check(k, f, 2, 6);
            mm.mmapReadLock();
            ShmemFile shared = mm.vmaLookup(s).file();
            mm.mmapReadUnlock();
            assertEquals(0, Mmap.munmap(mm, s, 2 * PAGE));
            assertEquals(0, Mmap.munmap(mm, f, 2 * PAGE));
            PageCache.of(k).truncate(shared, 0);
            PageCache.of(k).truncate(file, 0);
        });
        assertNoLeak(run);
    }

    @Test
    void setup_answersEinvalForBadArguments_andLeavesNothingBehind() {
        inProcess(6, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 4, RW);
            fill(k, a, 4, 1);
            mm.mmapReadLock();
            Vma vma = mm.vmaLookup(a);
            long[] four = new long[4];
            int sys = MIGRATE_VMA_SELECT_SYSTEM;
            assertEquals(EINVAL, setup(new MigrateVma(mm, null, a, a + PAGE, four, four.clone(), GPU, sys)));
            assertEquals(EINVAL, setup(new MigrateVma(null, vma, a, a + PAGE, four, four.clone(), GPU, sys)));
            assertEquals(EINVAL, setup(new MigrateVma(mm, vma, a, a, four, four.clone(), GPU, sys)), "empty");
            assertEquals(EINVAL, setup(new MigrateVma(mm, vma, a + PAGE, a + PAGE - 1, four, four.clone(), GPU, sys)),
                    "end rounds down below start");
            assertEquals(EINVAL, setup(new MigrateVma(mm, vma, a - PAGE, a + PAGE, four, four.clone(), GPU, sys)));
            assertEquals(EINVAL, setup(new MigrateVma(mm, vma, a, a + 5 * PAGE, new long[5], new long[5], GPU, sys)));
            assertEquals(EINVAL, setup(new MigrateVma(mm, vma, a, a + 4 * PAGE, new long[3], four, GPU, sys)));
            assertEquals(EINVAL, setup(new MigrateVma(mm, vma, a, a + 4 * PAGE, four, null, GPU, sys)));
            Page system = pageAt(k, mm, a);
            assertEquals(EINVAL, setup(new MigrateVma(mm, vma, a, a + PAGE, four, four.clone(), GPU,
                    MIGRATE_VMA_SELECT_DEVICE_PRIVATE).faultPage(system)), "fault page not device-private");
            Vma special = new Vma(a, a + PAGE, VmFlags.VM_READ | VmFlags.VM_PFNMAP, null, 0);
            assertEquals(EINVAL, setup(new MigrateVma(mm, special, a, a + PAGE, four, four.clone(), GPU, sys)));
            mm.mmapReadUnlock();
            for (int i = 0; i < 4; i++) {
                assertTrue(Pte.isPresent(pte(mm, a + i * PAGE)), "untouched");
            }
            check(k, a, 4, 1);
        });
    }

    @Test
    void theThreeCalls_mustComeInOrder() {
        inProcess(7, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 2);
            mm.mmapReadLock();
            MigrateVma args = new MigrateVma(mm, mm.vmaLookup(a), a, a + PAGE, new long[1], new long[1], GPU,
                    MIGRATE_VMA_SELECT_SYSTEM);
            assertThrows(IllegalStateException.class, () -> MigrateDevice.migrateVmaPages(args));
            assertThrows(IllegalStateException.class, () -> MigrateDevice.migrateVmaFinalize(args));
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            assertThrows(IllegalStateException.class, () -> MigrateDevice.migrateVmaSetup(args));
            assertThrows(IllegalStateException.class, () -> MigrateDevice.migrateVmaFinalize(args));
            MigrateDevice.migrateVmaPages(args);
            MigrateDevice.migrateVmaFinalize(args);
            assertEquals(MigrateVma.Stage.FINALIZED, args.stage());
            mm.mmapReadUnlock();
            check(k, a, 1, 2);
        });
    }

    @Test
    void migratePfnEncoding_followsTheNewestValues() {
        assertEquals(6, MigratePfn.MIGRATE_PFN_SHIFT);
        assertEquals(1, MigratePfn.MIGRATE_PFN_VALID);
        assertEquals(2, MigratePfn.MIGRATE_PFN_MIGRATE);
        assertEquals(8, MigratePfn.MIGRATE_PFN_WRITE);
        assertEquals(16, MigratePfn.MIGRATE_PFN_COMPOUND);
        assertEquals(32, MigratePfn.MIGRATE_PFN_DEVICE_PRIVATE);
        assertEquals((0x2aL << 6) | 1, MigratePfn.migratePfn(0x2a));
        assertEquals(0x2a, MigratePfn.pfn(MigratePfn.migratePfn(0x2a) | MIGRATE_PFN_WRITE));
        assertEquals("pfn=0x2a VALID MIGRATE WRITE",
                MigratePfn.toString(MigratePfn.migratePfn(0x2a) | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE));
        assertEquals(null, MigratePfn.migratePfnToPage(null, MIGRATE_PFN_MIGRATE), "no VALID, no page");
        assertEquals(1, MigrateVma.MIGRATE_VMA_SELECT_SYSTEM);
        assertEquals(2, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE);
        assertEquals(4, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_COHERENT);
        assertEquals(8, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND);
    }

    private static int setup(MigrateVma args) {
        return MigrateDevice.migrateVmaSetup(args);
    }
}
