package hmm4j.scenarios.selftest;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_WRITE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static hmm4j.kernel.mm.Mmap.MAP_ANONYMOUS;
import static hmm4j.kernel.mm.Mmap.MAP_PRIVATE;
import static hmm4j.kernel.mm.Mmap.PROT_READ;
import static hmm4j.kernel.mm.Mmap.PROT_WRITE;

import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.GupTest;
import hmm4j.sim.Kernel;

/**
 * The GUP test of hmm-tests.c (feature keys M and G): {@code hmm_gup_test} takes references
 * and pins on migrated device pages through the {@code gup_test} debugfs file
 * ({@link GupTest}), one page per command, and checks with a snapshot that every page came
 * back to system memory, writable, with its contents intact.
 */
final class GupTests extends UserSpace {
    /** {@code FOLL_WRITE} as the C file defines it. */
    private static final int FOLL_WRITE = Gup.FOLL_WRITE;
    /** {@code FOLL_LONGTERM} as the C file defines it. */
    private static final int FOLL_LONGTERM = Gup.FOLL_LONGTERM;

    GupTests(Kernel kernel) {
        super(kernel);
    }

    /**
     * {@code gup_test_exec}: one {@code gup_test} ioctl of {@code cmd} over {@code size} bytes
     * from {@code addr}, {@code npages} per call, with {@code FOLL_WRITE | flags}; 0, or the
     * ioctl's (positive) errno.
     */
    private static int gupTestExec(GupTest gupFd, long addr, int cmd, int npages, long size, int flags) {
        GupTest.Args gup = new GupTest.Args();
        gup.nrPagesPerCall = npages;
        gup.addr = addr;
        gup.gupFlags = FOLL_WRITE | flags;
        gup.size = size;
        int ret = gupFd.ioctl(cmd, gup);
        return ret == 0 ? 0 : -ret;
    }

    /**
     * {@code hmm_gup_test}: four pages migrated to the device; page 0 through
     * {@code GUP_BASIC_TEST}, page 1 {@code GUP_FAST_BENCHMARK}, page 2
     * {@code PIN_FAST_BENCHMARK} with {@code FOLL_LONGTERM}, page 3
     * {@code PIN_LONGTERM_BENCHMARK}; each ioctl returns 0; the snapshot then shows every page
     * in system memory and writable (in the coherent variant pages 0 and 1, not pinned long
     * term, stay on the device), and the CPU reads i.
     */
    void hmmGupTest(HmmSelf self, Variant variant) {
        GupTest gupFd = GupTest.open(kernel);
        if (gupFd == null) {
            skip("Skipping test, could not find gup_test driver");
        }
        long npages = 4;
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);
        store(buffer.ptr, words(size), i -> i);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        assertEq("gup_test_exec(gup_fd, (unsigned long)buffer->ptr, GUP_BASIC_TEST, 1, self->page_size, 0)",
                gupTestExec(gupFd, buffer.ptr, GupTest.GUP_BASIC_TEST, 1, self.pageSize, 0), 0);
        assertEq("gup_test_exec(gup_fd, (unsigned long)buffer->ptr + 1 * self->page_size, GUP_FAST_BENCHMARK, 1, "
                        + "self->page_size, 0)",
                gupTestExec(gupFd, buffer.ptr + self.pageSize, GupTest.GUP_FAST_BENCHMARK, 1, self.pageSize, 0), 0);
        assertEq("gup_test_exec(gup_fd, (unsigned long)buffer->ptr + 2 * self->page_size, PIN_FAST_BENCHMARK, 1, "
                        + "self->page_size, FOLL_LONGTERM)",
                gupTestExec(gupFd, buffer.ptr + 2 * self.pageSize, GupTest.PIN_FAST_BENCHMARK, 1, self.pageSize,
                        FOLL_LONGTERM), 0);
        assertEq("gup_test_exec(gup_fd, (unsigned long)buffer->ptr + 3 * self->page_size, PIN_LONGTERM_BENCHMARK, 1, "
                        + "self->page_size, 0)",
                gupTestExec(gupFd, buffer.ptr + 3 * self.pageSize, GupTest.PIN_LONGTERM_BENCHMARK, 1, self.pageSize,
                        0), 0);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_SNAPSHOT, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        byte[] m = loadBytes(buffer.mirror, npages);
        if (hmmIsCoherentType(variant.deviceNumber())) {
            assertByte("m[0]", m[0], "HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL | HMM_DMIRROR_PROT_WRITE",
                    HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL | HMM_DMIRROR_PROT_WRITE);
            assertByte("m[1]", m[1], "HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL | HMM_DMIRROR_PROT_WRITE",
                    HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL | HMM_DMIRROR_PROT_WRITE);
        } else {
            assertByte("m[0]", m[0], "HMM_DMIRROR_PROT_WRITE", HMM_DMIRROR_PROT_WRITE);
            assertByte("m[1]", m[1], "HMM_DMIRROR_PROT_WRITE", HMM_DMIRROR_PROT_WRITE);
        }
        assertByte("m[2]", m[2], "HMM_DMIRROR_PROT_WRITE", HMM_DMIRROR_PROT_WRITE);
        assertByte("m[3]", m[3], "HMM_DMIRROR_PROT_WRITE", HMM_DMIRROR_PROT_WRITE);
        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);

        gupFd.close();
        hmmBufferFree(buffer);
    }
}
