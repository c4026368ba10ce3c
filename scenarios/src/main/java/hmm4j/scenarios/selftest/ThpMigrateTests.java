package hmm4j.scenarios.selftest;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAGS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAG_FAIL_ALLOC;
import static hmm4j.kernel.mm.Mmap.MAP_ANONYMOUS;
import static hmm4j.kernel.mm.Mmap.MAP_PRIVATE;
import static hmm4j.kernel.mm.Mmap.PROT_READ;
import static hmm4j.kernel.mm.Mmap.PROT_WRITE;

import hmm4j.kernel.mm.Madvise;
import hmm4j.sim.Kernel;

/**
 * The device-private THP migration tests of hmm-tests.c (feature keys T and F): a THP migrated
 * whole to a huge device page and faulted back ({@code migrate_anon_huge_fault}), the same with
 * {@code HMM_DMIRROR_FLAG_FAIL_ALLOC} forcing the split paths there and back
 * ({@code migrate_anon_huge_err}) and on the huge zero page ({@code migrate_anon_huge_zero_err}),
 * and {@code benchmark_thp_migration}, run to completion over its seven buffer sizes and five
 * iterations (its only assertion: every run returns 0; the figures it prints are wall-clock
 * times, which the model's virtual time does not give, so it prints none). Each method is one
 * {@code TEST_F(hmm, ...)} with the same steps, loops and assertions as the C test.
 *
 * <p>On the coherent variant the tests run the same steps: the coherent device has no huge
 * folios (its one SPM range holds its only chunk), so every THP goes to it by the split path,
 * as on a kernel loaded with {@code spm_addr_dev0/1}.
 */
final class ThpMigrateTests extends UserSpace {
    /** {@code read_pmd_pagesize()}. */
    static final long PMD_SIZE = HugeTests.PMD_SIZE;

    ThpMigrateTests(Kernel kernel) {
        super(kernel);
    }

    private int madvise(long addr, long length, int advice) {
        return Madvise.madvise(mm(), addr, length, advice);
    }

    /** {@code ALIGN(ptr, size)} for a power-of-two size. */
    private static long align(long ptr, long size) {
        return (ptr + size - 1) & -size;
    }

    /**
     * {@code migrate_anon_huge_fault}: a written THP is migrated to the device, the device
     * reads it, and the CPU faults it back and reads every word.
     */
    void migrateAnonHugeFault(HmmSelf self, Variant variant) {
        long size = PMD_SIZE;
        HmmBuffer buffer = hmmBufferAlloc(2 * size, size);
        store(buffer.mirror, words(size), i -> -1);
        buffer.ptr = mmap(0, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        long npages = size >> self.pageShift;
        long map = align(buffer.ptr, size);
        int ret = madvise(map, size, Madvise.MADV_HUGEPAGE);
        assertEq("ret", ret, 0);
        long oldPtr = buffer.ptr;
        buffer.ptr = map;

        store(buffer.ptr, words(size), i -> i);
        ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
        buffer.ptr = oldPtr;
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_anon_huge_err}: with FAIL_ALLOC the THP goes to the device as base pages
     * (the huge device allocation fails), the device reads it and one page faults back; after a
     * fresh mapping, the THP goes to the device whole and FAIL_ALLOC makes MIGRATE_TO_SYS take
     * base pages (the device folio is split), and a page reads back.
     */
    void migrateAnonHugeErr(HmmSelf self, Variant variant) {
        long size = PMD_SIZE;
        HmmBuffer buffer = hmmBufferAlloc(2 * size, 2 * size);
        memset(buffer.mirror, (byte) 0xFF, 2 * size);

        long oldPtr = mmap(0, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("old_ptr", oldPtr);

        long npages = size >> self.pageShift;
        long map = align(oldPtr, size);
        int ret = madvise(map, size, Madvise.MADV_HUGEPAGE);
        assertEq("ret", ret, 0);
        buffer.ptr = map;

        store(buffer.ptr, words(size), i -> i);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_FLAGS, buffer, HMM_DMIRROR_FLAG_FAIL_ALLOC);
        assertEq("ret", ret, 0);
        ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);

        // ASSERT_EQ(ptr[i], i) with a break after a mismatch, which a failed ASSERT never reaches.
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        assertEq("ptr[2048]", load(buffer.ptr + 2048L * Integer.BYTES, 1)[0], 2048);

        ret = munmap(oldPtr, 2 * size);
        assertEq("ret", ret, 0);
        oldPtr = mmap(0, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("old_ptr", oldPtr);
        map = align(oldPtr, size);
        ret = madvise(map, size, Madvise.MADV_HUGEPAGE);
        assertEq("ret", ret, 0);
        buffer.ptr = map;

        store(buffer.ptr, words(size), i -> i);

        ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_FLAGS, buffer, HMM_DMIRROR_FLAG_FAIL_ALLOC);
        assertEq("ret", ret, 0);

        ret = hmmMigrateDevToSys(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("ptr[2048]", load(buffer.ptr + 2048L * Integer.BYTES, 1)[0], 2048);

        buffer.ptr = oldPtr;
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_anon_huge_zero_err}: with FAIL_ALLOC an untouched read-only THP range goes
     * to the device as base pages and reads as zeros, and one page faults back as zero; after
     * a fresh mapping whose first read maps the huge zero page, FAIL_ALLOC again, and the CPU
     * faults every page back as zeros.
     */
    void migrateAnonHugeZeroErr(HmmSelf self, Variant variant) {
        long size = PMD_SIZE;
        HmmBuffer buffer = hmmBufferAlloc(2 * size, 2 * size);
        memset(buffer.mirror, (byte) 0xFF, 2 * size);

        long oldPtr = mmap(0, 2 * size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("old_ptr", oldPtr);

        long npages = size >> self.pageShift;
        long map = align(oldPtr, size);
        int ret = madvise(map, size, Madvise.MADV_HUGEPAGE);
        assertEq("ret", ret, 0);
        buffer.ptr = map;

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_FLAGS, buffer, HMM_DMIRROR_FLAG_FAIL_ALLOC);
        assertEq("ret", ret, 0);
        ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);

        assertEach("ptr[i]", "0", load(buffer.mirror, words(size)), 0, words(size), i -> 0);

        long ptr = buffer.ptr;
        assertEq("ptr[2048]", load(ptr + 2048L * Integer.BYTES, 1)[0], 0);

        ret = munmap(oldPtr, 2 * size);
        assertEq("ret", ret, 0);
        oldPtr = mmap(0, 2 * size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("old_ptr", oldPtr);
        map = align(oldPtr, size);
        ret = madvise(map, size, Madvise.MADV_HUGEPAGE);
        assertEq("ret", ret, 0);
        buffer.ptr = map;

        // The C test reads ptr[0] through its stale ptr (the old buffer->ptr, which the new
        // mapping has covered again): the read maps the huge zero page there.
        ret = load(ptr, 1)[0];
        assertEq("ret", ret, 0);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_FLAGS, buffer, HMM_DMIRROR_FLAG_FAIL_ALLOC);
        assertEq("ret", ret, 0);
        ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);

        assertEach("ptr[i]", "0", load(buffer.ptr, words(size)), 0, words(size), i -> 0);

        buffer.ptr = oldPtr;
        hmmBufferFree(buffer);
    }

    /**
     * {@code benchmark_thp_migration}: for each of the seven buffer sizes (512 KiB to
     * 256 MiB), {@code run_migration_benchmark} with THP and without; each must return 0.
     */
    void benchmarkThpMigration(HmmSelf self, Variant variant) {
        long thpSize = 2L * 1024 * 1024;
        int iterations = 5;
        long[] testSizes = {thpSize / 4, thpSize / 2, thpSize, thpSize * 2, thpSize * 4, thpSize * 8, thpSize * 128};
        for (long testSize : testSizes) {
            assertEq("run_migration_benchmark(self->fd, 1, test_sizes[i], iterations, &thp_results)",
                    runMigrationBenchmark(self, true, testSize, iterations), 0);
            assertEq("run_migration_benchmark(self->fd, 0, test_sizes[i], iterations, &regular_results)",
                    runMigrationBenchmark(self, false, testSize, iterations), 0);
        }
    }

    /**
     * {@code run_migration_benchmark}: a {@code MADV_HUGEPAGE} (or {@code MADV_NOHUGEPAGE})
     * buffer written through, one warm-up migration there and back, then {@code iterations}
     * more; the first failing call's value is returned, else 0. The buffer is freed at the end
     * (the C helper leaks it on an early return).
     */
    private int runMigrationBenchmark(HmmSelf self, boolean useThp, long bufferSize, int iterations) {
        long npages = bufferSize / self.pageSize;
        HmmBuffer buffer = hmmBufferAlloc(bufferSize);
        // hmm_buffer_alloc of the benchmark: the mirror is memset to 0xFF, a chunk at a time.
        fillChunked(buffer.mirror, bufferSize, i -> -1);
        buffer.ptr = mmap(0, bufferSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        int ret = madvise(buffer.ptr, bufferSize, useThp ? Madvise.MADV_HUGEPAGE : Madvise.MADV_NOHUGEPAGE);
        if (ret != 0) {
            return ret;
        }
        fillChunked(buffer.ptr, bufferSize, i -> i & 0xFF);

        ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        if (ret != 0) {
            return ret;
        }
        ret = hmmMigrateDevToSys(self.fd, buffer, npages);
        if (ret != 0) {
            return ret;
        }
        for (int i = 0; i < iterations; i++) {
            ret = hmmMigrateSysToDev(self.fd, buffer, npages);
            if (ret != 0) {
                return ret;
            }
            ret = hmmMigrateDevToSys(self.fd, buffer, npages);
            if (ret != 0) {
                return ret;
            }
        }
        hmmBufferFree(buffer);
        return 0;
    }

    /** {@code ptr[i] = value(i)} over {@code size} bytes at {@code addr}, 2 MiB of ints per store. */
    private void fillChunked(long addr, long size, java.util.function.IntUnaryOperator value) {
        long total = words(size);
        long step = words(PMD_SIZE);
        for (long from = 0; from < total; from += step) {
            store(addr, from, Math.min(total, from + step), value);
        }
    }
}
