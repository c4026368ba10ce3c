package hmm4j.scenarios.selftest;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_WRITE;
import static hmm4j.kernel.mm.Mmap.MAP_ANONYMOUS;
import static hmm4j.kernel.mm.Mmap.MAP_PRIVATE;
import static hmm4j.kernel.mm.Mmap.MAP_SHARED;
import static hmm4j.kernel.mm.Mmap.PROT_NONE;
import static hmm4j.kernel.mm.Mmap.PROT_READ;
import static hmm4j.kernel.mm.Mmap.PROT_WRITE;

import hmm4j.drivers.dmirror.DmirrorFile;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.sched.WaitStatus;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;

/**
 * The core mirroring tests of hmm-tests.c (feature key C): the device reads and writes
 * anonymous, shared and file memory through {@code HMM_DMIRROR_READ}/{@code WRITE}, across
 * {@code mprotect} and {@code fork}, and reads while another thread unmaps
 * ({@code anon_teardown}, key R). Each method is one {@code TEST_F(hmm, ...)} with the same
 * steps and assertions as the C test.
 */
final class CoreTests extends UserSpace {

    CoreTests(Kernel kernel) {
        super(kernel);
    }

    /** {@code npages} of the 4 MiB tests: {@code ALIGN(HMM_BUFFER_SIZE, page_size) >> page_shift}. */
    private long bufferPages(HmmSelf self) {
        long npages = ((HMM_BUFFER_SIZE + self.pageSize - 1) & -self.pageSize) >> self.pageShift;
        assertNe("npages", npages, "0", 0);
        return npages;
    }

    /** {@code open_close}: only the fixture's set-up (open) and tear-down ({@code close() == 0}). */
    void openClose(HmmSelf self, Variant variant) {
    }

    /**
     * {@code anon_read}: the device reads private anonymous memory that is read-only, whose
     * first page was never touched and whose second maps the zero page.
     */
    void anonRead(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        // Everything but pages 0 and 1 gets ptr[i] = i: page 0 stays pte_none, page 1 gets the zero page.
        long first = 2 * self.pageSize / Integer.BYTES;
        store(buffer.ptr, first, words(size), i -> i);
        int ret = mprotect(buffer.ptr, size, PROT_READ);
        assertEq("ret", ret, 0);
        int val = load(buffer.ptr + self.pageSize, 1)[0];
        assertEq("val", val, 0);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_READ, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);

        int[] ptr = load(buffer.mirror, words(size));
        assertEach("ptr[i]", "0", ptr, 0, first, i -> 0);
        assertEach("ptr[i]", "i", ptr, first, words(size), i -> i);
        hmmBufferFree(buffer);
    }

    /** {@code anon_read_prot}: a READ of {@code PROT_NONE} memory fails with -EFAULT and copies nothing. */
    void anonReadProt(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        store(buffer.ptr, words(size), i -> i);
        // The mirror holds -i, so that any page the device copied would show.
        store(buffer.mirror, words(size), i -> -i);
        int ret = mprotect(buffer.ptr, size, PROT_NONE);
        assertEq("ret", ret, 0);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_READ, buffer, npages);
        assertEq("ret", ret, "-EFAULT", -Errno.EFAULT);

        ret = mprotect(buffer.ptr, size, PROT_READ);
        assertEq("ret", ret, 0);
        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
        assertEach("ptr[i]", "-i", load(buffer.mirror, words(size)), 0, words(size), i -> -i);
        hmmBufferFree(buffer);
    }

    /** {@code anon_write}: the device writes private anonymous memory; the CPU sees the data. */
    void anonWrite(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        store(buffer.mirror, words(size), i -> i);
        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_WRITE, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);

        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
        hmmBufferFree(buffer);
    }

    /**
     * {@code anon_write_prot}: a device WRITE to read-only memory fails with -EPERM and
     * changes nothing; after {@code mprotect(PROT_READ | PROT_WRITE)} it succeeds and replaces
     * the zero page.
     */
    void anonWriteProt(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        // One page read by the device: it now mirrors the zero page, read-only.
        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_READ, buffer, 1);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, 1);
        assertEq("buffer->faults", buffer.faults, 1);

        store(buffer.mirror, words(size), i -> i);
        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_WRITE, buffer, npages);
        assertEq("ret", ret, "-EPERM", -Errno.EPERM);
        assertEach("ptr[i]", "0", load(buffer.ptr, words(size)), 0, words(size), i -> 0);

        ret = mprotect(buffer.ptr, size, PROT_WRITE | PROT_READ);
        assertEq("ret", ret, 0);
        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_WRITE, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);
        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
        hmmBufferFree(buffer);
    }

    /**
     * {@code anon_write_child}: a forked child writes the inherited private mapping through its
     * own mirror; the writes copy-on-write and the parent keeps its values. Four runs, as the C
     * loops: without and with a migration to the device first, each on a 4 MiB buffer and on a
     * PMD-aligned PMD-sized range advised {@code MADV_HUGEPAGE} (a THP: docs/kernel-mapping.md,
     * "Transparent huge pages").
     */
    void anonWriteChild(HmmSelf self, Variant variant) {
        for (int migrate = 0; migrate < 2; ++migrate) {
            for (int useThp = 0; useThp < 2; ++useThp) {
                long npages = ((useThp != 0 ? MigrateTests.PMD_SIZE : HMM_BUFFER_SIZE) + self.pageSize - 1
                        & -self.pageSize) >> self.pageShift;
                assertNe("npages", npages, "0", 0);
                long size = npages << self.pageShift;

                HmmBuffer buffer = hmmBufferAlloc(size);
                buffer.size = size * 2;
                buffer.ptr = mmap(0, size * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
                assertMapped("buffer->ptr", buffer.ptr);

                long oldPtr = buffer.ptr;
                if (useThp != 0) {
                    long map = (buffer.ptr + size - 1) & -size;
                    int ret = Madvise.madvise(mm(), map, size, Madvise.MADV_HUGEPAGE);
                    assertEq("ret", ret, 0);
                    buffer.ptr = map;
                }
                store(buffer.ptr, words(size), i -> i);
                store(buffer.mirror, words(size), i -> -i);

                if (migrate != 0) {
                    int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
                    assertEq("ret", ret, 0);
                    assertEq("buffer->cpages", buffer.cpages, "npages", npages);
                }

                boolean migrated = migrate != 0;
                ChildProcess pid = fork(() -> {
                    assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
                    if (!migrated) {
                        assertEach("ptr[i]", "-i", load(buffer.mirror, words(size)), 0, words(size), i -> -i);
                    }
                    // The child process needs its own mirror to its own mm.
                    DmirrorFile childFd = hmmOpen(0);
                    assertOpen("child_fd", childFd);
                    int ret = hmmDmirrorCmd(childFd, HMM_DMIRROR_WRITE, buffer, npages);
                    assertEq("ret", ret, 0);
                    assertEq("buffer->cpages", buffer.cpages, "npages", npages);
                    assertEq("buffer->faults", buffer.faults, 1);
                    if (!migrated) {
                        assertEach("ptr[i]", "-i", load(buffer.ptr, words(size)), 0, words(size), i -> -i);
                    }
                    close(childFd);
                    exit(0);
                });
                WaitStatus status = waitpid(pid);
                assertEq("WIFEXITED(ret)", status.wifexited() ? 1 : 0, 1);
                assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
                buffer.ptr = oldPtr;
                hmmBufferFree(buffer);
            }
        }
    }

    /**
     * {@code anon_write_child_shared}: a forked child writes a shared anonymous mapping through
     * its own mirror; the parent sees the child's device writes (no copy-on-write).
     */
    void anonWriteChildShared(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        store(buffer.ptr, words(size), i -> i);
        store(buffer.mirror, words(size), i -> -i);

        ChildProcess pid = fork(() -> {
            assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
            assertEach("ptr[i]", "-i", load(buffer.mirror, words(size)), 0, words(size), i -> -i);
            // The child process needs its own mirror to its own mm.
            DmirrorFile childFd = hmmOpen(0);
            assertOpen("child_fd", childFd);
            int ret = hmmDmirrorCmd(childFd, HMM_DMIRROR_WRITE, buffer, npages);
            assertEq("ret", ret, 0);
            assertEq("buffer->cpages", buffer.cpages, "npages", npages);
            assertEq("buffer->faults", buffer.faults, 1);
            assertEach("ptr[i]", "-i", load(buffer.ptr, words(size)), 0, words(size), i -> -i);
            close(childFd);
            exit(0);
        });
        WaitStatus status = waitpid(pid);
        assertEq("WIFEXITED(ret)", status.wifexited() ? 1 : 0, 1);
        assertEach("ptr[i]", "-i", load(buffer.ptr, words(size)), 0, words(size), i -> -i);
        hmmBufferFree(buffer);
    }

    /** {@code file_read}: the device reads a shared read-only mapping of a tmpfs file. */
    void fileRead(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        ShmemFile fd = hmmCreateFile(size);
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.fd = fd;

        // The file's contents are written through pwrite, then the mirror is cleared.
        store(buffer.mirror, words(size), i -> i);
        long len = pwrite(fd, buffer.mirror, size, 0);
        assertEq("len", len, "size", size);
        store(buffer.mirror, words(size), i -> 0);

        buffer.ptr = mmap(0, size, PROT_READ, MAP_SHARED, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);
        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_READ, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);
        hmmBufferFree(buffer);
    }

    /** {@code file_write}: the device writes a shared mapping of a tmpfs file; the file has the data. */
    void fileWrite(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        ShmemFile fd = hmmCreateFile(size);
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.fd = fd;
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        store(buffer.mirror, words(size), i -> i);
        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_WRITE, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);
        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);

        long len = pread(fd, buffer.mirror, size, 0);
        assertEq("len", len, "size", size);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);
        hmmBufferFree(buffer);
    }

    /** {@code anon_read_multiple}: {@code NTIMES} fresh buffers, each read whole by the device. */
    void anonReadMultiple(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        for (int c = 0; c < NTIMES; c++) {
            int cc = c;
            HmmBuffer buffer = hmmBufferAlloc(size);
            buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
            assertMapped("buffer->ptr", buffer.ptr);

            store(buffer.ptr, words(size), i -> i + cc);
            int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_READ, buffer, npages);
            assertEq("ret", ret, 0);
            assertEq("buffer->cpages", buffer.cpages, "npages", npages);
            assertEq("buffer->faults", buffer.faults, 1);
            assertEach("ptr[i]", "i + c", load(buffer.mirror, words(size)), 0, words(size), i -> i + cc);
            hmmBufferFree(buffer);
        }
    }

    /**
     * {@code anon_teardown}: {@code NTIMES} times, a thread unmaps the second half of the
     * buffer after a random delay while the device reads the whole of it. Any outcome of the
     * READ is accepted, but one that returns 0 must have copied every page with the right data
     * in one fault round.
     */
    void anonTeardown(HmmSelf self, Variant variant) {
        long npages = bufferPages(self);
        long size = npages << self.pageShift;
        for (int c = 0; c < NTIMES; c++) {
            int cc = c;
            HmmBuffer buffer = hmmBufferAlloc(size);
            buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
            assertMapped("buffer->ptr", buffer.ptr);
            store(buffer.ptr, words(size), i -> i + cc);

            Task thread = pthreadCreate("unmap_buffer", () -> unmapBuffer(buffer));

            int rc = hmmDmirrorCmd(self.fd, HMM_DMIRROR_READ, buffer, npages);
            TestContext.of(kernel).count("READ returned " + withErrno(rc));
            if (rc == 0) {
                assertEq("buffer->cpages", buffer.cpages, "npages", npages);
                assertEq("buffer->faults", buffer.faults, 1);
                assertEach("ptr[i]", "i + c", load(buffer.mirror, words(size)), 0, words(size), i -> i + cc);
            }
            pthreadJoin(thread);
            hmmBufferFree(buffer);
        }
    }

    /**
     * {@code unmap_buffer}, the thread of {@link #anonTeardown}: waits a random 0–32 µs
     * (see {@link #hmmNanosleep}), unmaps the second half and clears {@code ptr}, so that
     * {@code hmm_buffer_free} leaves the rest to the process's exit, as in C.
     */
    private void unmapBuffer(HmmBuffer buffer) {
        hmmNanosleep(hmmRandom() % 32000);
        munmap(buffer.ptr + buffer.size / 2, buffer.size / 2);
        buffer.ptr = 0;
    }

    /**
     * {@code mixedmap}: a private mapping of the device file itself (pages the driver inserts,
     * {@code VM_MIXEDMAP}) is seen by a snapshot as present and read-only.
     */
    void mixedmap(HmmSelf self, Variant variant) {
        long npages = 1;
        long size = npages << self.pageShift;
        HmmBuffer buffer = hmmBufferAlloc(size, npages);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, self.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_SNAPSHOT, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        byte[] m = loadBytes(buffer.mirror, npages);
        assertByte("m[0]", m[0], "HMM_DMIRROR_PROT_READ", HMM_DMIRROR_PROT_READ);
        hmmBufferFree(buffer);
    }
}
