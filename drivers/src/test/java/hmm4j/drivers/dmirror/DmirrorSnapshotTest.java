package hmm4j.drivers.dmirror;

import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.drivers.dmirror.DmirrorHarness.cmd;
import static hmm4j.drivers.dmirror.DmirrorHarness.fill;
import static hmm4j.testkit.UserProcess.inProcess;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.testkit.UserMemory.readBytes;
import static hmm4j.testkit.UserMemory.readInt;
import static hmm4j.testkit.UserMemory.writeInt;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Hugetlb;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

/**
 * SNAPSHOT bytes for every CPU state of the §1.8 table the model can represent, here for base
 * pages and a 1 GiB hugetlb page (PUD, 0x08); PMD mappings (0x04) are exercised by the
 * selftest's {@code compound}, THP device pages (0x26) and the coherent devices (0x4x, 0x5x)
 * elsewhere.
 */
class DmirrorSnapshotTest {

    /** The snapshot of [addr, addr + npages pages) through {@code f} into {@code buf}, as unsigned bytes. */
    private static int[] snapshot(Kernel k, long buf, DmirrorFile f, long addr, int npages) {
        HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_SNAPSHOT, addr, buf, npages, 0);
        assertEquals(npages, r.cpages, "one byte per page");
        byte[] b = readBytes(k, buf, npages);
        int[] out = new int[npages];
        for (int i = 0; i < npages; i++) {
            out[i] = b[i] & 0xff;
        }
        return out;
    }

    @Test
    void holesNoReadPermissionEmptyZeroReadOnlyAndWritablePages() {
        inProcess(41, (k, self, mm) -> {
            long out = mapAnon(mm, 1, RW);
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 6, RW);
            assertEquals(0, Mmap.munmap(mm, a, PAGE), "page 0: a hole");
            assertEquals(0, Mprotect.mprotect(mm, a + PAGE, PAGE, Mmap.PROT_NONE), "page 1: PROT_NONE");
            readInt(k, a + 3 * PAGE);
            fill(k, a + 4 * PAGE, 2, 1);
            assertEquals(0, Mprotect.mprotect(mm, a + 4 * PAGE, PAGE, Mmap.PROT_READ), "page 4: read-only");
            assertArrayEquals(new int[] {0xFF, 0xFF, 0x00, 0x11, 0x01, 0x02}, snapshot(k, out, f, a, 6),
                    "hole, PROT_NONE, never populated, zero page, read-only page, writable page");
            assertEquals(0, f.dmirror().pt().size(), "a snapshot maps nothing in the device table");
            f.close();
        });
    }

    @Test
    void devicePrivatePages_localRemoteAndReadOnly() {
        inProcess(42, (k, self, mm) -> {
            long out = mapAnon(mm, 1, RW);
            DmirrorFile f0 = DmirrorFile.open(DmirrorDevice.create(k, 0));
            DmirrorFile f1 = DmirrorFile.open(DmirrorDevice.create(k, 1));
            long a = mapAnon(mm, 3, RW);
            long buf = mapAnon(mm, 3, RW);
            fill(k, a, 3, 2);
            assertEquals(0, Mprotect.mprotect(mm, a + PAGE, PAGE, Mmap.PROT_READ));
            cmd(f0, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
            cmd(f1, HMM_DMIRROR_MIGRATE_TO_DEV, a + 2 * PAGE, buf, 1, 0);
            assertArrayEquals(new int[] {0x22, 0x21, 0x00}, snapshot(k, out, f0, a, 3),
                    "local writable, local read-only, another device's page (not present to this device)");
            assertArrayEquals(new int[] {0x00, 0x00, 0x22}, snapshot(k, out, f1, a, 3));
            f0.close();
            f1.close();
        });
    }

    @Test
    void exclusiveAndSwapEntries_readAsNotPresent() {
        inProcess(43, (k, self, mm) -> {
            long out = mapAnon(mm, 1, RW);
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 3);
            cmd(f, HMM_DMIRROR_EXCLUSIVE, a, buf, 1, 0);
            assertEquals(1, Vmscan.reclaimAnon(mm, a + PAGE, a + 2 * PAGE));
            assertArrayEquals(new int[] {0x00, 0x00}, snapshot(k, out, f, a, 2), "device-exclusive, swap");
            assertEquals(3001, readInt(k, a + PAGE), "swapped back in");
            assertArrayEquals(new int[] {0x00, 0x01}, snapshot(k, out, f, a, 2),
                    "swapped in by a read: read-only until written");
            f.close();
        });
    }

    @Test
    void theDeviceFilesOwnMapping_privateIsReadOnlyUntilCopiedOnWrite_sharedIsWritable() {
        inProcess(44, (k, self, mm) -> {
            long out = mapAnon(mm, 1, RW);
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long priv = f.mmap(2 * PAGE, RW, Mmap.MAP_PRIVATE);
            long shared = f.mmap(PAGE, RW, Mmap.MAP_SHARED);
            assertEquals(false, Errno.isError(priv) || Errno.isError(shared));
            assertArrayEquals(new int[] {0x01, 0x01}, snapshot(k, out, f, priv, 2), "the mixedmap test");
            assertArrayEquals(new int[] {0x02}, snapshot(k, out, f, shared, 1));
            assertEquals(0, readInt(k, priv), "zeroed pages");
            writeInt(k, priv, 77);
            assertArrayEquals(new int[] {0x02, 0x01}, snapshot(k, out, f, priv, 2), "page 0 was copied on write");
            assertEquals(77, readInt(k, priv));
            assertEquals(0, Mmap.munmap(mm, priv, 2 * PAGE));
            assertEquals(0, Mmap.munmap(mm, shared, PAGE));
            f.close();
        });
    }

    @Test
    void aSnapshotLongerThanOneChunk_andAboveTheUserAddressSpace() {
        int pages = DmirrorFault.DMIRROR_FAULT_CHUNK * 2 + 1;
        inProcess(45, (k, self, mm) -> {
            long out = mapAnon(mm, 1, RW);
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, pages, RW);
            fill(k, a, pages, 1);
            int[] bytes = snapshot(k, out, f, a, pages);
            for (int i = 0; i < pages; i++) {
                assertEquals(0x02, bytes[i], "page " + i);
            }
            assertArrayEquals(new int[] {0xFF, 0xFF}, snapshot(k, out, f, -(2 * PAGE) - PAGE, 2),
                    "kernel addresses read as errors");
            f.close();
        });
    }

    @Test
    void aGiganticHugetlbPage_readsAsPud_writableThenReadOnly() {
        inProcess(46, (k, self, mm) -> {
            long gb = Hugetlb.GIGANTIC_PAGE_SIZE;
            assertEquals(1, Hugetlb.of(k).setNrHugepages(Pte.PUD_SHIFT, 1));
            long out = mapAnon(mm, 1, RW);
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = Mmap.mmap(mm, 0, gb, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB | Mmap.MAP_HUGE_1GB, null, 0);
            assertEquals(0, a & (gb - 1), "1 GiB aligned");
            writeInt(k, a + 5, 7);
            for (long at : new long[] {a, a + gb / 2 - 2 * PAGE, a + gb - 4 * PAGE}) {
                assertArrayEquals(new int[] {0x0A, 0x0A, 0x0A, 0x0A}, snapshot(k, out, f, at, 4),
                        "HMM_DMIRROR_PROT_WRITE | HMM_DMIRROR_PROT_PUD at 0x" + Long.toHexString(at - a));
            }
            assertEquals(0, Mprotect.mprotect(mm, a, gb, Mmap.PROT_READ));
            assertArrayEquals(new int[] {0x09, 0x09}, snapshot(k, out, f, a + gb - 2 * PAGE, 2),
                    "HMM_DMIRROR_PROT_READ | HMM_DMIRROR_PROT_PUD");
            assertEquals(0, f.dmirror().pt().size(), "a snapshot maps nothing in the device table");
            assertEquals(0, Mmap.munmap(mm, a, gb));
            assertEquals(1, Hugetlb.of(k).freeHugePages(Pte.PUD_SHIFT), "back in the pool");
            f.close();
        });
    }
}
