package hmm4j.scenarios.selftest;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_WRITE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_RELEASE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static hmm4j.kernel.mm.Mmap.MAP_ANONYMOUS;
import static hmm4j.kernel.mm.Mmap.MAP_PRIVATE;
import static hmm4j.kernel.mm.Mmap.MAP_SHARED;
import static hmm4j.kernel.mm.Mmap.PROT_READ;
import static hmm4j.kernel.mm.Mmap.PROT_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.sched.Signal;
import hmm4j.kernel.sched.WaitStatus;
import hmm4j.sim.Kernel;

/**
 * The migration tests of hmm-tests.c (feature key M, with W for copy-on-write of device
 * pages across fork): {@code HMM_DMIRROR_MIGRATE_TO_DEV} of anonymous, shared and
 * file-private memory, CPU faults that bring device pages back, {@code RELEASE} of the
 * device's memory, and partial unmaps of migrated ranges. Each method is one
 * {@code TEST_F(hmm, ...)} with the same steps and assertions as the C test.
 */
final class MigrateTests extends UserSpace {
    /** {@code read_pmd_pagesize()}: the PMD size of x86-64 with 4 KiB pages (2 MiB). */
    static final long PMD_SIZE = 2L << 20;

    MigrateTests(Kernel kernel) {
        super(kernel);
    }

    private long bufferPages(HmmSelf self) {
        long npages = ((HMM_BUFFER_SIZE + self.pageSize - 1) & -self.pageSize) >> self.pageShift;
        assertNe("npages", npages, "0", 0);
        return npages;
    }

    /** A buffer of {@code size} bytes of fresh private anonymous read-write memory. */
    private HmmBuffer anonBuffer(long size) {
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);
        return buffer;
    }

    /** {@code migrate}: private anonymous memory moves to the device, which reads it back. */
    void migrate(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = anonBuffer(size);
        store(buffer.ptr, words(size), i -> i);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_file_private}: a private writable mapping of a tmpfs file, written by the
     * CPU (so every page is an anonymous copy-on-write copy), migrates like anonymous memory.
     */
    void migrateFilePrivate(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        ShmemFile fd = hmmCreateFile(size);
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.fd = fd;
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);
        store(buffer.ptr, words(size), i -> i);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_fault}: after a migration the CPU reads the first half (faulting those
     * pages back to system memory); a second migration moves everything again.
     */
    void migrateFault(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = anonBuffer(size);
        store(buffer.ptr, words(size), i -> i);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        assertEach("ptr[i]", "i", load(buffer.ptr, words(size) / 2), 0, words(size) / 2, i -> i);

        ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_release}: after a migration, {@code HMM_DMIRROR_RELEASE} evicts all of
     * the device's memory back to system memory; the CPU then reads the first half.
     */
    void migrateRelease(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = anonBuffer(size);
        store(buffer.ptr, words(size), i -> i);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_RELEASE, buffer, npages);
        assertEq("ret", ret, 0);
        assertEach("ptr[i]", "i", load(buffer.ptr, words(size) / 2), 0, words(size) / 2, i -> i);
        hmmBufferFree(buffer);
    }

    /** {@code migrate_shared}: shared anonymous memory cannot migrate; the read-back fails with -ENOENT. */
    void migrateShared(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, "-ENOENT", -Errno.ENOENT);
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_multiple}: {@code NTIMES} fresh buffers migrated to the device (and, on a
     * coherent device, explicitly back), then read by the CPU.
     */
    void migrateMultiple(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        for (int c = 0; c < NTIMES; c++) {
            HmmBuffer buffer = anonBuffer(size);
            store(buffer.ptr, words(size), i -> i);

            int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
            assertEq("ret", ret, 0);
            assertEq("buffer->cpages", buffer.cpages, "npages", npages);
            assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

            // A coherent device's pages are CPU-accessible, so they only come back on request.
            if (hmmIsCoherentType(variant.deviceNumber())) {
                ret = hmmMigrateDevToSys(self.fd, buffer, npages);
                assertEq("ret", ret, 0);
                assertEq("buffer->cpages", buffer.cpages, "npages", npages);
            }
            assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
            hmmBufferFree(buffer);
        }
    }

    /**
     * {@code hmm_cow_in_device}: 4 pages on the device are shared copy-on-write with a forked
     * child that spins until it is killed; the parent's writes bring each device-private page
     * back to system memory and copy it (a coherent page is copied straight from device
     * memory), so a snapshot afterwards sees ordinary writable pages only. The parent kills the
     * child with {@code SIGKILL} and checks how it ended. The C test's {@code EXPECT_*} are
     * assertions here: the first that fails ends the test.
     */
    void hmmCowInDevice(HmmSelf self, Variant variant) {
        long npages = 4;
        long size = npages << self.pageShift;
        HmmBuffer buffer = anonBuffer(size);
        store(buffer.ptr, words(size), i -> i);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);

        // The child waits for SIGKILL from the parent.
        ChildProcess pid = fork(this::spinUntilKilled);

        store(buffer.ptr, words(size), i -> i);

        assertEq("kill(pid, SIGKILL)", kill(pid, Signal.SIGKILL), 0);
        WaitStatus status = waitpid(pid);
        assertEq("waitpid(pid, &status, 0)", status.pid(), "pid", pid.pid());
        assertNe("WIFSIGNALED(status)", status.wifsignaled() ? 1 : 0, "0", 0);
        assertEq("WTERMSIG(status)", status.wtermsig(), "SIGKILL", Signal.SIGKILL);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_SNAPSHOT, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        byte[] m = loadBytes(buffer.mirror, npages);
        for (int i = 0; i < npages; i++) {
            assertByte("m[" + i + "]", m[i], "HMM_DMIRROR_PROT_WRITE", HMM_DMIRROR_PROT_WRITE);
        }
        hmmBufferFree(buffer);
    }
}
