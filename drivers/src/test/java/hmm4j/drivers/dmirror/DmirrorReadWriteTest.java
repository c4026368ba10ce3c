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
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import org.junit.jupiter.api.Test;

/** READ and WRITE through the device's view (dmirror-and-selftests.md §1.4, §1.5, §1.9 counters). */
class DmirrorReadWriteTest {

    @Test
    void read_faultsEverythingInOneRound_thenReadsWithoutFaulting() {
        inProcess(11, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 4, RW);
            long buf = mapAnon(mm, 4, RW);
            fill(k, a, 4, 3);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_READ, a, buf, 4, 0);
            assertEquals(4, r.cpages);
            assertEquals(1, r.faults, "one round faults the whole range");
            check(k, buf, 4, 3);
            assertEquals(4, f.dmirror().pt().size());

            r = cmd(f, HMM_DMIRROR_READ, a, buf, 4, 0);
            assertEquals(4, r.cpages);
            assertEquals(0, r.faults, "everything is mirrored already");
            f.close();
        });
    }

    @Test
    void read_ofUnpopulatedMemory_mapsTheZeroPageReadOnly() {
        inProcess(12, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            UserAccess.copyToUser(k, buf, new byte[] {9, 9, 9});
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_READ, a, buf, 2, 0);
            assertEquals(2, r.cpages);
            assertArrayEquals(new byte[3], readBytes(k, buf, 3));
            assertTrue(Pte.isZero(pte(mm, a)), Pte.toString(pte(mm, a)));
            long entry = f.dmirror().pt().load(a >>> Pte.PAGE_SHIFT);
            assertEquals(DmirrorPageTable.DPT_XA_TAG_RO, DmirrorPageTable.tag(entry));
            f.close();
        });
    }

    @Test
    void read_fails_withoutAVma_withoutReadPermission_orWithABadBuffer() {
        inProcess(13, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 3, RW);
            long buf = mapAnon(mm, 3, RW);
            assertEquals(0, Mmap.munmap(mm, a + PAGE, PAGE));
            cmd(f, HMM_DMIRROR_READ, a, buf, 3, -Errno.EFAULT);
            long none = mapAnon(mm, 1, Mmap.PROT_NONE);
            cmd(f, HMM_DMIRROR_READ, none, buf, 1, -Errno.EFAULT);
            cmd(f, HMM_DMIRROR_READ, a, a + PAGE, 1, -Errno.EFAULT);
            cmd(f, HMM_DMIRROR_READ, -(1L << 20), buf, 1, -Errno.EFAULT);
            f.close();
        });
    }

    @Test
    void write_reachesTheCpuView_andFaultsForWrite() {
        inProcess(14, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 3, RW);
            long buf = mapAnon(mm, 3, RW);
            long scratch = mapAnon(mm, 1, RW);
            fill(k, buf, 3, 5);
            cmd(f, HMM_DMIRROR_READ, a, scratch, 1, 0);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_WRITE, a, buf, 3, 0);
            assertEquals(3, r.cpages);
            assertEquals(1, r.faults, "the zero-page entry of page 0 is read-only, so page 0 faults for write too");
            check(k, a, 3, 5);
            assertTrue(Pte.isWrite(pte(mm, a)) && !Pte.isZero(pte(mm, a)), "the zero page was copied on write");
            r = cmd(f, HMM_DMIRROR_WRITE, a, buf, 3, 0);
            assertEquals(0, r.faults);
            f.close();
        });
    }

    @Test
    void write_toAReadOnlyMapping_isEperm_andABadSourceIsEfault() {
        inProcess(15, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 1);
            assertEquals(0, Mprotect.mprotect(mm, a, 2 * PAGE, Mmap.PROT_READ));
            cmd(f, HMM_DMIRROR_WRITE, a, buf, 2, -Errno.EPERM);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_READ, a, buf, 2, 0);
            assertEquals(2, r.cpages, "reading a read-only mapping is fine");
            check(k, buf, 2, 1);
            long unmapped = mapAnon(mm, 1, RW);
            assertEquals(0, Mmap.munmap(mm, unmapped, PAGE));
            cmd(f, HMM_DMIRROR_WRITE, a, unmapped, 1, -Errno.EFAULT);
            f.close();
        });
    }

    @Test
    void read_ofMoreThanOneFaultChunk_stillCountsOneRound() {
        int pages = DmirrorFault.DMIRROR_FAULT_CHUNK + 6;
        inProcess(16, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 1));
            long a = mapAnon(mm, pages, RW);
            long buf = mapAnon(mm, pages, RW);
            fill(k, a, pages, 2);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_READ, a, buf, pages, 0);
            assertEquals(pages, r.cpages);
            assertEquals(1, r.faults);
            check(k, buf, pages, 2);
            f.close();
        });
    }

    @Test
    void anInvalidationBetweenTwoReads_costsOneMoreRound() {
        inProcess(17, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 4);
            cmd(f, HMM_DMIRROR_READ, a, buf, 2, 0);
            assertEquals(0, Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_READ));
            assertEquals(0, f.dmirror().pt().size(),
                    "the invalidation of page 0 erased page 1 as well: the end pfn is inclusive (Q3)");
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_READ, a, buf, 2, 0);
            assertEquals(1, r.faults);
            assertEquals(4000, readInt(k, buf));
            f.close();
        });
    }
}
