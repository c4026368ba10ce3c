package hmm4j.scenarios.selftest;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_CHECK_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_WRITE;
import static hmm4j.kernel.mm.Mmap.MAP_ANONYMOUS;
import static hmm4j.kernel.mm.Mmap.MAP_PRIVATE;
import static hmm4j.kernel.mm.Mmap.PROT_READ;
import static hmm4j.kernel.mm.Mmap.PROT_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.sched.WaitStatus;
import hmm4j.sim.Kernel;

/**
 * The exclusive-access tests of hmm-tests.c (feature key X): {@code HMM_DMIRROR_EXCLUSIVE}
 * replaces the CPU's entries with device-exclusive ones, and any CPU access, an
 * {@code mprotect} or a fork takes the device's atomic access away again. Each method is one
 * {@code TEST_F(hmm, ...)} with the same steps and assertions as the C test.
 */
final class ExclusiveTests extends UserSpace {

    ExclusiveTests(Kernel kernel) {
        super(kernel);
    }

    private long bufferPages(HmmSelf self) {
        long npages = ((HMM_BUFFER_SIZE + self.pageSize - 1) & -self.pageSize) >> self.pageShift;
        assertNe("npages", npages, "0", 0);
        return npages;
    }

    /** N pages of private anonymous memory holding {@code ptr[i] = i}, made exclusive to the device. */
    private HmmBuffer exclusiveBuffer(HmmSelf self, long npages) {
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);
        store(buffer.ptr, words(size), i -> i);

        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_EXCLUSIVE, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        return buffer;
    }

    /**
     * The C loops {@code ASSERT_EQ(ptr[i]++, i)} then {@code ASSERT_EQ(ptr[i], i + 1)} over the
     * whole buffer, done a page at a time: the first access to each page is a read (which
     * restores the CPU entry), then the write of the incremented words.
     */
    private void incrementAndCheck(HmmSelf self, HmmBuffer buffer) {
        long perPage = words(self.pageSize);
        for (long page = 0; page < buffer.size / self.pageSize; page++) {
            long addr = buffer.ptr + page * self.pageSize;
            int[] ptr = load(addr, perPage);
            long base = page * perPage;
            for (int k = 0; k < ptr.length; k++) {
                if (ptr[k] != (int) (base + k)) {
                    assertEq("ptr[i]++", ptr[k], "i", base + k);
                }
                ptr[k]++;
            }
            store(addr, ptr);
        }
        assertEach("ptr[i]", "i+1", load(buffer.ptr, words(buffer.size)), 0, words(buffer.size), i -> i + 1);
    }

    /**
     * {@code exclusive}: the device reads the data back through its exclusive entries; the
     * CPU's read-modify-write of every word restores the CPU entries, after which no entry of
     * the device keeps atomic access ({@code CHECK_EXCLUSIVE} returns 0).
     */
    void exclusive(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = exclusiveBuffer(self, npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        incrementAndCheck(self, buffer);

        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_CHECK_EXCLUSIVE, buffer, npages);
        assertEq("ret", ret, 0);
        hmmBufferFree(buffer);
    }

    /**
     * {@code exclusive_mprotect}: after an {@code mprotect(PROT_READ)} of exclusive memory a
     * device WRITE fails with -EPERM.
     */
    void exclusiveMprotect(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = exclusiveBuffer(self, npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        int ret = mprotect(buffer.ptr, size, PROT_READ);
        assertEq("ret", ret, 0);
        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_WRITE, buffer, npages);
        assertEq("ret", ret, "-EPERM", -Errno.EPERM);
        hmmBufferFree(buffer);
    }

    /**
     * {@code exclusive_cow}: the process forks while its memory is exclusive to the device;
     * parent and child then each increment every word of their copy and see their own values.
     * The child {@code _exit(0)}s; the parent waits for it and asserts that status.
     */
    void exclusiveCow(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        HmmBuffer buffer = exclusiveBuffer(self, npages);

        ChildProcess pid = fork(() -> {
            incrementAndCheck(self, buffer);
            exit(0);
        });
        incrementAndCheck(self, buffer);

        WaitStatus status = waitpid(pid);
        assertEq("waitpid(pid, &status, 0)", status.pid(), "pid", pid.pid());
        assertEq("WIFEXITED(status)", status.wifexited() ? 1 : 0, 1);
        assertEq("WEXITSTATUS(status)", status.wexitstatus(), 0);
        hmmBufferFree(buffer);
    }
}
