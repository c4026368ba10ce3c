package hmm4j.drivers.dmirror;

import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.drivers.dmirror.DmirrorHarness.check;
import static hmm4j.drivers.dmirror.DmirrorHarness.cmd;
import static hmm4j.drivers.dmirror.DmirrorHarness.fill;
import static hmm4j.testkit.UserProcess.inProcess;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.testkit.UserMemory.pte;
import static hmm4j.testkit.UserMemory.readBytes;
import static hmm4j.testkit.UserMemory.readInt;
import static hmm4j.testkit.UserMemory.writeInt;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAGS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAG_FAIL_ALLOC;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_SYS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_RELEASE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import org.junit.jupiter.api.Test;

/**
 * MIGRATE_TO_DEV, MIGRATE_TO_SYS, the CPU fault on a device page ({@code migrate_to_ram}),
 * RELEASE and FAIL_ALLOC (dmirror-and-selftests.md §1.4, §1.7, §1.9).
 */
class DmirrorMigrateTest {

    @Test
    void migrateToDevice_movesThePages_mapsThemInTheMirror_andReadsThemBack() {
        inProcess(21, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 4, RW);
            long buf = mapAnon(mm, 4, RW);
            fill(k, a, 4, 6);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 4, 0);
            assertEquals(4, r.cpages);
            check(k, buf, 4, 6);
            assertEquals(4, dev.calloc());
            for (int i = 0; i < 4; i++) {
                long e = pte(mm, a + i * PAGE);
                assertTrue(Pte.isDevicePrivate(e) && Pte.isWrite(e), Pte.toString(e));
                assertSame(dev, PhysMem.of(k).pfnToPage(Pte.pfn(e)).devicePrivateOwner());
                long entry = f.dmirror().pt().load((a >>> Pte.PAGE_SHIFT) + i);
                assertEquals(Pte.pfn(e), DmirrorPageTable.pfn(entry), "the mirror maps the device page");
                assertEquals(DmirrorPageTable.DPT_XA_TAG_WRITE, DmirrorPageTable.tag(entry));
            }
            r = cmd(f, HMM_DMIRROR_READ, a, buf, 4, 0);
            assertEquals(0, r.faults, "the device's own pages are mirrored by the migration itself");
            f.close();
        });
    }

    @Test
    void cpuAccess_migratesADevicePageBack_andTheDeviceGetsItsPageBack() {
        inProcess(22, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 8);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
            assertEquals(8000, readInt(k, a), "a CPU read faults the page back");
            assertTrue(Pte.isPresent(pte(mm, a)));
            assertTrue(Pte.isDevicePrivate(pte(mm, a + PAGE)), "only the touched page moved");
            assertEquals(1, dev.cfree());
            assertEquals(0L, f.dmirror().pt().load(a >>> Pte.PAGE_SHIFT), "migrate_to_ram erased the mirror's entry");
            writeInt(k, a + PAGE, 4242);
            assertEquals(2, dev.cfree());
            assertEquals(4242, readInt(k, a + PAGE));
            assertEquals(-8001, readInt(k, a + 2 * PAGE - 4));
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_READ, a, buf, 2, 0);
            assertEquals(1, r.faults);
            f.close();
        });
    }

    @Test
    void migrateToSystem_bringsTheDevicePagesBack_andCountsThem() {
        inProcess(23, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 3, RW);
            long buf = mapAnon(mm, 3, RW);
            fill(k, a, 3, 2);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 3, 0);
            readInt(k, a);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_MIGRATE_TO_SYS, a, buf, 3, 0);
            assertEquals(2, r.cpages, "page 0 was already back in system memory");
            for (int i = 0; i < 3; i++) {
                assertTrue(Pte.isPresent(pte(mm, a + i * PAGE)));
            }
            assertEquals(0, f.dmirror().pt().size(), "every device entry was erased on the way back");
            assertEquals(3, dev.cfree());
            check(k, a, 3, 2);
            r = cmd(f, HMM_DMIRROR_MIGRATE_TO_SYS, a, buf, 3, 0);
            assertEquals(0, r.cpages);
            f.close();
        });
    }

    @Test
    void migrateToDevice_ofHoles_zeroFillsWritableDevicePages() {
        inProcess(24, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 1));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, buf, 2, 1);
            cmd(f, HMM_DMIRROR_READ, a, buf, 1, 0);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
            assertEquals(2, r.cpages, "the zero page and the empty entry are both holes to fill");
            assertArrayEquals(new byte[(int) (2 * PAGE)], readBytes(k, buf, (int) (2 * PAGE)));
            assertTrue(Pte.isDevicePrivate(pte(mm, a)) && Pte.isWrite(pte(mm, a)));
            f.close();
        });
    }

    @Test
    void migrateToDevice_refusesAMissingOrUnreadableVma_andLeavesSharedMemory() {
        inProcess(25, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            assertEquals(0, Mmap.munmap(mm, a + PAGE, PAGE));
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, -Errno.EINVAL);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_SYS, a, buf, 2, -Errno.EINVAL);
            long none = mapAnon(mm, 1, Mmap.PROT_NONE);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, none, buf, 1, -Errno.EINVAL);
            long shared = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            fill(k, shared, 1, 3);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, shared, buf, 1, -Errno.ENOENT);
            assertTrue(Pte.isPresent(pte(mm, shared)), "shared memory does not go to the device");
            long mixed = f.mmap(PAGE, RW, Mmap.MAP_PRIVATE);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, mixed, buf, 1, -Errno.EINVAL);
            f.close();
        });
    }

    @Test
    void migrateToDevice_acrossTwoVmasAndManyChunks_growsTheDeviceMemory() {
        int pages = DmirrorDevice.DEVMEM_CHUNK_PAGES + 4;
        inProcess(26, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, pages, RW);
            long buf = mapAnon(mm, pages, RW);
            fill(k, a, pages, 4);
            assertEquals(0, Mprotect.mprotect(mm, a, 2 * PAGE, Mmap.PROT_READ), "two VMAs");
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, pages, 0);
            assertEquals(pages, r.cpages);
            check(k, buf, pages, 4);
            assertEquals(2, dev.chunkCount(), "a second chunk was created when the free list ran dry");
            assertTrue(Pte.isDevicePrivate(pte(mm, a)) && !Pte.isWrite(pte(mm, a)), "read-only stays read-only");
            assertEquals(DmirrorPageTable.DPT_XA_TAG_RO, DmirrorPageTable.tag(f.dmirror().pt().load(a >>> Pte.PAGE_SHIFT)));
            check(k, a, pages, 4);
            assertEquals(pages, dev.cfree());
            f.close();
        });
    }

    @Test
    void release_evictsEveryChunk_keepsTheData_andTheNextMigrationMakesANewChunk() {
        inProcess(27, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 3, RW);
            long buf = mapAnon(mm, 3, RW);
            fill(k, a, 3, 9);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 3, 0);
            long devicePfn = Pte.pfn(pte(mm, a));
            cmd(f, HMM_DMIRROR_RELEASE, a, buf, 1, 0);
            assertEquals(0, dev.chunkCount());
            assertEquals(0, dev.freePageCount());
            for (int i = 0; i < 3; i++) {
                assertTrue(Pte.isPresent(pte(mm, a + i * PAGE)), "evicted to system memory");
            }
            assertEquals(0, f.dmirror().pt().size(), "the eviction's invalidations erased the entries");
            check(k, a, 3, 9);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 3, 0);
            assertEquals(3, r.cpages);
            assertEquals(1, dev.chunkCount());
            assertNotEquals(devicePfn, Pte.pfn(pte(mm, a)), "a new chunk, new device pfns");
            check(k, buf, 3, 9);
            f.close();
        });
    }

    @Test
    void failAlloc_failsOneDevicePageAllocation_once() {
        inProcess(28, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 7);
            cmd(f, HMM_DMIRROR_FLAGS, a, 0, HMM_DMIRROR_FLAG_FAIL_ALLOC, 0);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, -Errno.ENOENT);
            assertTrue(Pte.isPresent(pte(mm, a)), "the first page stayed in system memory");
            assertTrue(Pte.isDevicePrivate(pte(mm, a + PAGE)));
            assertEquals(0L, f.dmirror().flags(), "one-shot");
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
            assertEquals(2, r.cpages);
            check(k, buf, 2, 7);
            f.close();
        });
    }

    @Test
    void failAlloc_failsTheWayBack_once_forTheCommandAndForACpuFault() {
        inProcess(29, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 5);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
            cmd(f, HMM_DMIRROR_FLAGS, a, 0, HMM_DMIRROR_FLAG_FAIL_ALLOC, 0);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_MIGRATE_TO_SYS, a, buf, 2, 0);
            assertEquals(0, r.cpages, "the first allocation failed and the rest was not attempted");
            assertTrue(Pte.isDevicePrivate(pte(mm, a)));

            cmd(f, HMM_DMIRROR_FLAGS, a, 0, HMM_DMIRROR_FLAG_FAIL_ALLOC, 0);
            byte[] one = new byte[4];
            assertEquals(-Errno.EFAULT, hmm4j.kernel.mm.UserAccess.copyFromUser(k, one, a),
                    "migrate_to_ram answered VM_FAULT_OOM: the access fails");
            assertEquals(5000, readInt(k, a), "the flag was one-shot: the next access migrates the page back");
            r = cmd(f, HMM_DMIRROR_MIGRATE_TO_SYS, a, buf, 2, 0);
            assertEquals(1, r.cpages);
            check(k, a, 2, 5);
            f.close();
        });
    }
}
