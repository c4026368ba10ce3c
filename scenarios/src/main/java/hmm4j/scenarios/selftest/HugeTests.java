package hmm4j.scenarios.selftest;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_PMD;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_WRITE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_WRITE;
import static hmm4j.kernel.mm.Mmap.MAP_ANONYMOUS;
import static hmm4j.kernel.mm.Mmap.MAP_HUGETLB;
import static hmm4j.kernel.mm.Mmap.MAP_PRIVATE;
import static hmm4j.kernel.mm.Mmap.PROT_READ;
import static hmm4j.kernel.mm.Mmap.PROT_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Hugetlb;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.sim.Kernel;

/**
 * The transparent-huge-page tests of hmm-tests.c (feature key T) that the model runs: a device
 * write to a THP ({@code anon_write_huge}), the migration to the device of an empty, a
 * huge-zero and a written THP ({@code migrate_anon_huge_empty}, {@code _zero}, {@code _free}),
 * and both halves of {@code migrate_partial_unmap_fault}; and the hugetlbfs tests (feature key H):
 * a device write to a {@code MAP_HUGETLB} page ({@code anon_write_hugetlbfs}) and the snapshot's
 * PMD level over one ({@code compound}). Each method is one
 * {@code TEST_F(hmm, ...)} with the same steps, loops and assertions as the C test;
 * {@code read_pmd_pagesize()} is 2 MiB, the model's PMD size.
 *
 * <p>The model's dmirror migrates with {@code MIGRATE_VMA_SELECT_COMPOUND}, as the kernel's
 * does: a THP goes to the device as one huge device page. The tests that exercise that path
 * and its split fallbacks are in {@link ThpMigrateTests}.
 */
final class HugeTests extends UserSpace {
    /** {@code read_pmd_pagesize()}. */
    static final long PMD_SIZE = 2L << 20;

    HugeTests(Kernel kernel) {
        super(kernel);
    }

    /** {@code madvise}: 0 or a negated errno. */
    private int madvise(long addr, long length, int advice) {
        return Madvise.madvise(mm(), addr, length, advice);
    }

    /**
     * {@code default_huge_page_size()} of the selftests' vm_util.c: /proc/meminfo's
     * {@code Hugepagesize:} in bytes, 0 if it could not be read.
     */
    private long defaultHugePageSize() {
        return Hugetlb.of(kernel).hugepagesizeKb() * 1024;
    }

    /** {@code ALIGN(ptr, size)} for a power-of-two size. */
    private static long align(long ptr, long size) {
        return (ptr + size - 1) & -size;
    }

    /**
     * {@code anon_write_huge}: the device writes a 2 MiB-aligned {@code MADV_HUGEPAGE} range in
     * one fault round (the first fault maps the whole THP), and the CPU reads what it wrote.
     */
    void anonWriteHuge(HmmSelf self, Variant variant) {
        long size = 2 * PMD_SIZE;
        HmmBuffer buffer = hmmBufferAlloc(size);
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);

        size /= 2;
        long npages = size >> self.pageShift;
        long map = align(buffer.ptr, size);
        int ret = madvise(map, size, Madvise.MADV_HUGEPAGE);
        assertEq("ret", ret, 0);
        long oldPtr = buffer.ptr;
        buffer.ptr = map;

        store(buffer.mirror, words(size), i -> i);
        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_WRITE, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);

        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
        buffer.ptr = oldPtr;
        hmmBufferFree(buffer);
    }

    /**
     * {@code anon_write_hugetlbfs}: the device writes a whole {@code MAP_HUGETLB} page in one
     * fault round and the CPU reads what it wrote. Skips, as the C test does, when the huge
     * page size is unknown or the {@code mmap} fails (no free huge page to reserve).
     */
    void anonWriteHugetlbfs(HmmSelf self, Variant variant) {
        long defaultHsize = defaultHugePageSize();
        if (defaultHsize == 0) {
            skip("Huge page size could not be determined");
        }
        long size = align(PMD_SIZE, defaultHsize);
        long npages = size >> self.pageShift;

        HmmBuffer buffer = new HmmBuffer();
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
                (ShmemFile) null, 0);
        if (Errno.isError(buffer.ptr)) {
            skip("Huge page could not be allocated");
        }
        buffer.fd = null;
        buffer.size = size;
        buffer.mirror = malloc(size);
        buffer.mirrorSize = size;

        store(buffer.mirror, words(size), i -> i);
        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_WRITE, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEq("buffer->faults", buffer.faults, 1);

        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);
        munmap(buffer.ptr, buffer.size);
        buffer.ptr = 0;
        hmmBufferFree(buffer);
    }

    /**
     * {@code compound}: a written {@code MAP_HUGETLB} page is snapshot as WRITE with the PMD
     * level on every page, and after {@code mprotect(PROT_READ)} as READ with the PMD level.
     * Returns without a verdict (a pass), as the C test does, when the {@code mmap} fails.
     */
    void compound(HmmSelf self, Variant variant) {
        long defaultHsize = defaultHugePageSize();
        if (defaultHsize == 0) {
            skip("Huge page size could not be determined");
        }
        long size = align(PMD_SIZE, defaultHsize);
        long npages = size >> self.pageShift;

        HmmBuffer buffer = new HmmBuffer();
        buffer.ptr = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
                (ShmemFile) null, 0);
        if (Errno.isError(buffer.ptr)) {
            return;
        }
        buffer.size = size;
        buffer.mirror = malloc(npages);
        buffer.mirrorSize = npages;

        store(buffer.ptr, words(size), i -> i);
        int ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_SNAPSHOT, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        byte[] m = loadBytes(buffer.mirror, npages);
        for (int i = 0; i < npages; ++i) {
            assertByte("m[i]", m[i], "HMM_DMIRROR_PROT_WRITE | HMM_DMIRROR_PROT_PMD",
                    HMM_DMIRROR_PROT_WRITE | HMM_DMIRROR_PROT_PMD);
        }

        ret = mprotect(buffer.ptr, size, PROT_READ);
        assertEq("ret", ret, 0);

        ret = hmmDmirrorCmd(self.fd, HMM_DMIRROR_SNAPSHOT, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        m = loadBytes(buffer.mirror, npages);
        for (int i = 0; i < npages; ++i) {
            assertByte("m[i]", m[i], "HMM_DMIRROR_PROT_READ | HMM_DMIRROR_PROT_PMD",
                    HMM_DMIRROR_PROT_READ | HMM_DMIRROR_PROT_PMD);
        }

        munmap(buffer.ptr, buffer.size);
        buffer.ptr = 0;
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_anon_huge_empty}: a read-only {@code MADV_HUGEPAGE} range never touched is
     * migrated whole; the device reads zeros.
     */
    void migrateAnonHugeEmpty(HmmSelf self, Variant variant) {
        long size = PMD_SIZE;
        HmmBuffer buffer = hugeBuffer(size, PROT_READ);
        long npages = size >> self.pageShift;
        long oldPtr = adviseHuge(buffer, size);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "0", load(buffer.mirror, words(size)), 0, words(size), i -> 0);
        buffer.ptr = oldPtr;
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_anon_huge_zero}: one CPU read maps the huge zero page; the range is
     * migrated whole, the device reads zeros, and the CPU faults every page back as zeros.
     */
    void migrateAnonHugeZero(HmmSelf self, Variant variant) {
        long size = PMD_SIZE;
        HmmBuffer buffer = hugeBuffer(size, PROT_READ);
        long npages = size >> self.pageShift;
        long oldPtr = adviseHuge(buffer, size);

        int val = load(buffer.ptr, 1)[0];
        assertEq("val", val, 0);

        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "0", load(buffer.mirror, words(size)), 0, words(size), i -> 0);

        assertEach("ptr[i]", "0", load(buffer.ptr, words(size)), 0, words(size), i -> 0);
        buffer.ptr = oldPtr;
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_anon_huge_free}: a written THP is migrated whole, the device reads it, and
     * {@code MADV_FREE} of the range (now device-private entries, which it leaves alone) returns 0.
     */
    void migrateAnonHugeFree(HmmSelf self, Variant variant) {
        long size = PMD_SIZE;
        HmmBuffer buffer = hugeBuffer(size, PROT_READ | PROT_WRITE);
        long npages = size >> self.pageShift;
        long map = align(buffer.ptr, size);
        long oldPtr = adviseHuge(buffer, size);

        store(buffer.ptr, words(size), i -> i);
        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
        assertEq("ret", ret, 0);
        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

        ret = madvise(map, size, Madvise.MADV_FREE);
        assertEq("ret", ret, 0);
        buffer.ptr = oldPtr;
        hmmBufferFree(buffer);
    }

    /**
     * {@code migrate_partial_unmap_fault}, all six iterations: for {@code use_thp} 0
     * ({@code MADV_NOHUGEPAGE}) and 1 ({@code MADV_HUGEPAGE}) and an offset of 0, P/4 or P/2, a
     * P-aligned P range is written, migrated, half of it unmapped at the offset, and the CPU
     * reads what is left, faulting each page back.
     */
    void migratePartialUnmapFault(HmmSelf self, Variant variant) {
        long size = PMD_SIZE;
        long unmapSize = size / 2;
        long[] offsets = {0, size / 4, size / 2};
        for (int useThp = 0; useThp < 2; ++useThp) {
            for (long offset : offsets) {
                HmmBuffer buffer = hugeBuffer(size, PROT_READ | PROT_WRITE);
                long npages = size >> self.pageShift;
                long map = align(buffer.ptr, size);
                int ret = madvise(map, size, useThp != 0 ? Madvise.MADV_HUGEPAGE : Madvise.MADV_NOHUGEPAGE);
                assertEq("ret", ret, 0);
                long oldPtr = buffer.ptr;
                buffer.ptr = map;

                store(buffer.ptr, words(size), i -> i);
                ret = hmmMigrateSysToDev(self.fd, buffer, npages);
                assertEq("ret", ret, 0);
                assertEq("buffer->cpages", buffer.cpages, "npages", npages);
                assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

                munmap(buffer.ptr + offset, unmapSize);
                // The words outside the hole, read by the CPU; the hole itself is not touched.
                int holeStart = (int) words(offset);
                int holeEnd = (int) words(offset + unmapSize);
                int[] ptr = new int[(int) words(size)];
                System.arraycopy(load(buffer.ptr, holeStart), 0, ptr, 0, holeStart);
                System.arraycopy(load(buffer.ptr + (long) holeEnd * Integer.BYTES, ptr.length - holeEnd), 0, ptr,
                        holeEnd, ptr.length - holeEnd);
                assertEach("ptr[i]", "i", ptr, 0, holeStart, i -> i);
                assertEach("ptr[i]", "i", ptr, holeEnd, ptr.length, i -> i);
                buffer.ptr = oldPtr;
                hmmBufferFree(buffer);
            }
        }
    }

    /**
     * The set-up these tests share: a buffer of {@code 2 * size} bytes mapped with
     * {@code prot}, its {@code size}-byte mirror filled with 0xFF.
     */
    private HmmBuffer hugeBuffer(long size, int prot) {
        HmmBuffer buffer = hmmBufferAlloc(2 * size, size);
        store(buffer.mirror, words(size), i -> -1);
        buffer.ptr = mmap(0, 2 * size, prot, MAP_PRIVATE | MAP_ANONYMOUS, buffer.fd, 0);
        assertMapped("buffer->ptr", buffer.ptr);
        return buffer;
    }

    /** {@code madvise(ALIGN(ptr, size), size, MADV_HUGEPAGE)}; the buffer now points there. Returns the old ptr. */
    private long adviseHuge(HmmBuffer buffer, long size) {
        long map = align(buffer.ptr, size);
        int ret = madvise(map, size, Madvise.MADV_HUGEPAGE);
        assertEq("ret", ret, 0);
        long oldPtr = buffer.ptr;
        buffer.ptr = map;
        return oldPtr;
    }
}
