package hmm4j.drivers.dmirror;

import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.testkit.TestKernels.checked;
import static hmm4j.drivers.dmirror.DmirrorHarness.fill;
import static hmm4j.testkit.UserProcess.inProcess;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_CHECK_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAGS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAG_FAIL_ALLOC;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_RELEASE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The command envelope (dmirror-and-selftests.md §1.3): the shared argument checks and their
 * errno values, the zeroing of the counters, the copy-back on success only, and the misuse of
 * a closed file.
 */
class DmirrorEnvelopeTest {

    /** A record whose counters hold a sentinel, to see whether the driver wrote them back. */
    private static HmmDmirrorCmd record(long addr, long ptr, long npages) {
        HmmDmirrorCmd r = new HmmDmirrorCmd(addr, ptr, npages);
        r.cpages = 99;
        r.faults = 77;
        return r;
    }

    @ParameterizedTest(name = "command 0x{0}")
    @ValueSource(ints = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08})
    void everyCommand_refusesAnUnalignedAddressAnEmptyRangeAndAWrap_withEinval(int command) {
        inProcess(1, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            for (HmmDmirrorCmd r : new HmmDmirrorCmd[] {
                record(a + 8, buf, 1),
                record(a, buf, 0),
                record(a, buf, 1L << 52),
                record(-PAGE, buf, 1),
                record(-PAGE, buf, 2)}) {
                assertEquals(-Errno.EINVAL, f.ioctl(command, r), r.toString());
                assertEquals(99, r.cpages, "no counter copied back after " + r);
                assertEquals(77, r.faults, "no counter copied back after " + r);
            }
            f.close();
        });
    }

    @Test
    void unknownCommand_isEinval_andAMissingRecordIsEfault() {
        inProcess(2, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 1, RW);
            HmmDmirrorCmd r = record(a, a, 1);
            assertEquals(-Errno.EINVAL, f.ioctl(0x09, r), "READ_UNLOCKABLE is not offered");
            assertEquals(-Errno.EINVAL, f.ioctl(0x42, r));
            assertEquals(99, r.cpages);
            assertEquals(-Errno.EFAULT, f.ioctl(HMM_DMIRROR_READ, null));
            f.close();
        });
    }

    @Test
    void counters_areZeroedThenCopiedBackOnSuccessOnly() {
        inProcess(3, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 4, RW);
            assertEquals(0, Mmap.munmap(mm, a + 3 * PAGE, PAGE));
            long buf = mapAnon(mm, 4, RW);
            fill(k, a, 3, 1);
            HmmDmirrorCmd ok = record(a, buf, 3);
            assertEquals(0, f.ioctl(HMM_DMIRROR_READ, ok));
            assertEquals(3, ok.cpages);
            assertEquals(1, ok.faults, "the counters start from zero, not from the caller's values");

            HmmDmirrorCmd again = record(a, buf, 3);
            assertEquals(0, f.ioctl(HMM_DMIRROR_CHECK_EXCLUSIVE, again));
            assertEquals(0, again.cpages, "a command that counts nothing still writes the zeroed counters back");
            assertEquals(0, again.faults);

            HmmDmirrorCmd failing = record(a, buf, 4);
            assertEquals(-Errno.EFAULT, f.ioctl(HMM_DMIRROR_READ, failing), "the fourth page has no VMA");
            assertEquals(99, failing.cpages, "3 pages were copied before the error, but nothing is copied back");
            assertEquals(77, failing.faults);
            f.close();
        });
    }

    @Test
    void flags_isStillSubjectToTheEnvelope_andSetsTheWord() {
        inProcess(4, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 1, RW);
            assertEquals(-Errno.EINVAL, f.ioctl(HMM_DMIRROR_FLAGS, record(a, 0, 0)),
                    "clearing with npages 0 is an empty range");
            assertEquals(-Errno.EINVAL, f.ioctl(HMM_DMIRROR_FLAGS, record(a + 1, 0, HMM_DMIRROR_FLAG_FAIL_ALLOC)));
            assertEquals(0L, f.dmirror().flags());
            assertEquals(0, f.ioctl(HMM_DMIRROR_FLAGS, record(a, 0, HMM_DMIRROR_FLAG_FAIL_ALLOC | 4)));
            assertEquals(HMM_DMIRROR_FLAG_FAIL_ALLOC | 4, f.dmirror().flags());
            assertEquals(0, f.ioctl(HMM_DMIRROR_RELEASE, record(a, 0, 1)), "RELEASE validates, then ignores the range");
            f.close();
        });
    }

    @Test
    void aClosedFile_refusesEveryCall() {
        inProcess(5, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 1, RW);
            assertEquals(0, f.close());
            assertThrows(IllegalStateException.class, () -> f.ioctl(HMM_DMIRROR_SNAPSHOT, record(a, a, 1)));
            assertThrows(IllegalStateException.class, () -> f.mmap(PAGE, RW, Mmap.MAP_PRIVATE));
            assertThrows(IllegalStateException.class, f::close);
        });
    }

    @Test
    void open_needsATaskWithAnAddressSpace() {
        Kernel k = checked(6);
        DmirrorDevice dev = DmirrorDevice.create(k, 1);
        assertThrows(IllegalStateException.class, () -> DmirrorFile.open(dev), "set-up code has no current->mm");
        assertThrows(IllegalArgumentException.class, () -> DmirrorDevice.create(k, 4), "the module has minors 0 to 3");
        assertEquals(dev, DmirrorDevice.create(k, 1), "one device per minor and kernel");
        assertThrows(IllegalStateException.class, () -> DmirrorDevice.create(k, 1, DmirrorProtocol.NO_SET_SEQ));
        assertEquals(1, dev.chunkCount(), "one chunk exists from the start");
        assertEquals(DmirrorDevice.DEVMEM_CHUNK_PAGES, dev.freePageCount());
        assertEquals(0, dev.calloc());
    }

    @Test
    void mmap_refusesBadArguments() {
        inProcess(7, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            assertEquals(-Errno.EINVAL, f.mmap(0, RW, Mmap.MAP_PRIVATE));
            assertEquals(-Errno.EINVAL, f.mmap(PAGE, RW, Mmap.MAP_PRIVATE | Mmap.MAP_SHARED));
            assertEquals(-Errno.EINVAL, f.mmap(PAGE, RW, 0));
            f.close();
        });
    }
}
