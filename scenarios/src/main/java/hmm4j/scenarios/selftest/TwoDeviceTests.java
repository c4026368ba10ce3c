package hmm4j.scenarios.selftest;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_ERROR;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_NONE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_WRITE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_ZERO;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static hmm4j.kernel.mm.Mmap.MAP_ANONYMOUS;
import static hmm4j.kernel.mm.Mmap.MAP_PRIVATE;
import static hmm4j.kernel.mm.Mmap.PROT_NONE;
import static hmm4j.kernel.mm.Mmap.PROT_READ;
import static hmm4j.kernel.mm.Mmap.PROT_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Kernel;

/**
 * The tests of hmm-tests.c on two devices (fixture {@code hmm2}, feature key 2): a snapshot
 * of a range mixing holes, {@code PROT_NONE}, the zero page, read-only, writable and
 * device-private pages of both devices; migration of such a mixed range; and one range
 * mirrored by both devices while it moves to one of them. Each method is one
 * {@code TEST_F(hmm2, ...)} with the same steps and assertions as the C test.
 */
final class TwoDeviceTests extends UserSpace {

    TwoDeviceTests(Kernel kernel) {
        super(kernel);
    }

    /**
     * {@code snapshot}: seven pages, one of each kind, probed by device 0 without faulting:
     * PROT_NONE and a hole are errors, the zero page is ZERO|READ, then READ, WRITE, a page on
     * device 0 (LOCAL|WRITE) and a page on device 1 (not present to device 0: NONE).
     */
    void snapshot(Hmm2Self self, Variant variant) {
        long npages = 7;
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size, npages);
        buffer.ptr = mmap(0, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);
        long p = buffer.ptr;

        // Page 1 becomes a hole.
        int ret = munmap(buffer.ptr + self.pageSize, self.pageSize);
        assertEq("ret", ret, 0);

        // Page 2: read-only, and a CPU read maps the zero page.
        ret = mprotect(buffer.ptr + 2 * self.pageSize, self.pageSize, PROT_READ);
        assertEq("ret", ret, 0);
        int val = load(buffer.ptr + 2 * self.pageSize, 1)[0] + 3;
        assertEq("val", val, 3);

        // Page 3: written while writable, then read-only.
        ret = mprotect(buffer.ptr + 3 * self.pageSize, self.pageSize, PROT_READ | PROT_WRITE);
        assertEq("ret", ret, 0);
        store(buffer.ptr + 3 * self.pageSize, new int[] {val});
        ret = mprotect(buffer.ptr + 3 * self.pageSize, self.pageSize, PROT_READ);
        assertEq("ret", ret, 0);

        // Pages 4-6: writable; page 4 written by the CPU.
        ret = mprotect(buffer.ptr + 4 * self.pageSize, 3 * self.pageSize, PROT_READ | PROT_WRITE);
        assertEq("ret", ret, 0);
        store(buffer.ptr + 4 * self.pageSize, new int[] {val});

        // Page 5 goes to device 0, page 6 to device 1.
        buffer.ptr = p + 5 * self.pageSize;
        ret = hmmMigrateSysToDev(self.fd0, buffer, 1);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, 1);
        buffer.ptr = p + 6 * self.pageSize;
        ret = hmmMigrateSysToDev(self.fd1, buffer, 1);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, 1);

        buffer.ptr = p;
        ret = hmmDmirrorCmd(self.fd0, HMM_DMIRROR_SNAPSHOT, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);

        byte[] m = loadBytes(buffer.mirror, npages);
        assertByte("m[0]", m[0], "HMM_DMIRROR_PROT_ERROR", HMM_DMIRROR_PROT_ERROR & 0xFF);
        assertByte("m[1]", m[1], "HMM_DMIRROR_PROT_ERROR", HMM_DMIRROR_PROT_ERROR & 0xFF);
        assertByte("m[2]", m[2], "HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ",
                HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ);
        assertByte("m[3]", m[3], "HMM_DMIRROR_PROT_READ", HMM_DMIRROR_PROT_READ);
        assertByte("m[4]", m[4], "HMM_DMIRROR_PROT_WRITE", HMM_DMIRROR_PROT_WRITE);
        if (!hmmIsCoherentType(variant.deviceNumber())) {
            assertByte("m[5]", m[5], "HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE",
                    HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE);
            assertByte("m[6]", m[6], "HMM_DMIRROR_PROT_NONE", HMM_DMIRROR_PROT_NONE);
        } else if (hmmIsCoherentType(variant.deviceNumber1())) {
            assertByte("m[5]", m[5], "HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL | HMM_DMIRROR_PROT_WRITE",
                    HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL | HMM_DMIRROR_PROT_WRITE);
            assertByte("m[6]", m[6], "HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE | HMM_DMIRROR_PROT_WRITE",
                    HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE | HMM_DMIRROR_PROT_WRITE);
        }
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_mixed}: migrating a {@code PROT_NONE} range, or one with a hole, fails
     * with -EINVAL; the zero page, a read-only page and two writable pages then migrate to
     * device 1; a page already on device 1 does not migrate to device 0 (-ENOENT).
     */
    void migrateMixed(Hmm2Self self, Variant variant) {
        long npages = 6;
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);
        long p = buffer.ptr;

        int ret = hmmMigrateSysToDev(self.fd1, buffer, npages);
        assertEq("ret", ret, "-EINVAL", -Errno.EINVAL);

        // Page 1 becomes a hole, so a range over pages 0-2 is not covered by one VMA.
        ret = munmap(buffer.ptr + self.pageSize, self.pageSize);
        assertEq("ret", ret, 0);
        ret = hmmMigrateSysToDev(self.fd1, buffer, 3);
        assertEq("ret", ret, "-EINVAL", -Errno.EINVAL);

        // Page 2: read-only zero page.
        ret = mprotect(buffer.ptr + 2 * self.pageSize, self.pageSize, PROT_READ);
        assertEq("ret", ret, 0);
        int val = load(buffer.ptr + 2 * self.pageSize, 1)[0] + 3;
        assertEq("val", val, 3);

        // Page 3: written, then read-only.
        ret = mprotect(buffer.ptr + 3 * self.pageSize, self.pageSize, PROT_READ | PROT_WRITE);
        assertEq("ret", ret, 0);
        store(buffer.ptr + 3 * self.pageSize, new int[] {val});
        ret = mprotect(buffer.ptr + 3 * self.pageSize, self.pageSize, PROT_READ);
        assertEq("ret", ret, 0);

        // Pages 4-5: writable and written.
        ret = mprotect(buffer.ptr + 4 * self.pageSize, 2 * self.pageSize, PROT_READ | PROT_WRITE);
        assertEq("ret", ret, 0);
        store(buffer.ptr + 4 * self.pageSize, new int[] {val});
        store(buffer.ptr + 5 * self.pageSize, new int[] {val});

        buffer.ptr = p + 2 * self.pageSize;
        ret = hmmMigrateSysToDev(self.fd1, buffer, 4);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, 4);

        buffer.ptr = p + 5 * self.pageSize;
        ret = hmmMigrateSysToDev(self.fd0, buffer, 1);
        assertEq("ret", ret, "-ENOENT", -Errno.ENOENT);

        buffer.ptr = p;
        hmmBufferFree(buffer);
    }

    /**
     * {@code double_map}: read-only memory mirrored by both devices; after it migrates to
     * device 1, device 0's next READ faults it back to system memory and reads it again.
     */
    void doubleMap(Hmm2Self self, Variant variant) {
        long npages = 6;
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        store(buffer.ptr, words(size), i -> i);
        int ret = mprotect(buffer.ptr, size, PROT_READ);
        assertEq("ret", ret, 0);

        ret = hmmDmirrorCmd(self.fd0, HMM_DMIRROR_READ, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        ret = hmmDmirrorCmd(self.fd1, HMM_DMIRROR_READ, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        ret = hmmMigrateSysToDev(self.fd1, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);

        ret = hmmDmirrorCmd(self.fd0, HMM_DMIRROR_READ, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);
        hmmBufferFree(buffer);
    }
}
