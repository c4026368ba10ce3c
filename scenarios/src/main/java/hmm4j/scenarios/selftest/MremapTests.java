package hmm4j.scenarios.selftest;

import static hmm4j.kernel.mm.Mmap.MAP_ANONYMOUS;
import static hmm4j.kernel.mm.Mmap.MAP_PRIVATE;
import static hmm4j.kernel.mm.Mmap.PROT_READ;
import static hmm4j.kernel.mm.Mmap.PROT_WRITE;
import static hmm4j.kernel.mm.Mremap.MREMAP_DONTUNMAP;
import static hmm4j.kernel.mm.Mremap.MREMAP_FIXED;
import static hmm4j.kernel.mm.Mremap.MREMAP_MAYMOVE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.Mremap;
import hmm4j.sim.Kernel;

/**
 * The mremap test of hmm-tests.c (feature keys M and T): {@code migrate_remap_fault} moves a
 * PMD-sized range with {@code mremap(MREMAP_MAYMOVE | MREMAP_FIXED [| MREMAP_DONTUNMAP])}
 * before or after migrating it to the device, then faults every page back at the new address.
 */
final class MremapTests extends UserSpace {
    MremapTests(Kernel kernel) {
        super(kernel);
    }

    /** {@code mremap(old_address, old_size, new_size, flags, new_address)}: the new address or a negated errno. */
    private long mremap(long oldAddress, long oldSize, long newSize, int flags, long newAddress) {
        return Mremap.mremap(mm(), oldAddress, oldSize, newSize, flags, newAddress);
    }

    /** {@code ASSERT_NE(new_ptr, MAP_FAILED)} after an {@code mremap}. */
    private void assertRemapped(long newPtr) {
        if (Errno.isError(newPtr)) {
            fail("ASSERT_NE(new_ptr, MAP_FAILED)", "mremap returned " + withErrno(newPtr));
        }
    }

    /**
     * {@code madvise(map, size, use_thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)} and its
     * {@code ASSERT_EQ(ret, 0)}: with {@code use_thp} the aligned range faults in as a THP,
     * which {@code mremap} splits before it moves the entries (docs/kernel-mapping.md, "mremap").
     */
    private void hugepageAdvice(long map, long size, boolean useThp) {
        int ret = Madvise.madvise(mm(), map, size, useThp ? Madvise.MADV_HUGEPAGE : Madvise.MADV_NOHUGEPAGE);
        if (ret != 0) {
            fail("ASSERT_EQ(ret, 0)", "madvise returned " + ret);
        }
    }

    /**
     * {@code migrate_remap_fault}: for {@code before} in 0, 1, {@code dont_unmap} in 0, 1,
     * {@code use_thp} in 0, 1 and each offset 0, P/4, P/2 (24 runs): an 8P mapping, aligned
     * to P, with [P, 3P) above the aligned start unmapped; the aligned P range is filled with
     * i and moved to {@code map + P + offset} before (or after) its migration to the device
     * (ret 0, cpages P/page, mirror i); the CPU then reads i at the new address.
     */
    void migrateRemapFault(HmmSelf self, Variant variant) {
        long size = MigrateTests.PMD_SIZE;
        long[] offsets = {0, size / 4, size / 2};
        for (int before = 0; before < 2; ++before) {
            for (int dontUnmap = 0; dontUnmap < 2; ++dontUnmap) {
                for (int useThp = 0; useThp < 2; ++useThp) {
                    for (long offset : offsets) {
                        int flags = MREMAP_MAYMOVE | MREMAP_FIXED;
                        if (dontUnmap != 0) {
                            flags |= MREMAP_DONTUNMAP;
                        }
                        HmmBuffer buffer = hmmBufferAlloc(8 * size, size);
                        store(buffer.mirror, words(size), i -> -1);
                        buffer.ptr = mmap(0, buffer.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                buffer.fd, 0);
                        assertMapped("buffer->ptr", buffer.ptr);

                        long npages = size >> self.pageShift;
                        long map = (buffer.ptr + size - 1) & -size;
                        hugepageAdvice(map, size, useThp != 0);
                        long oldPtr = buffer.ptr;
                        munmap(map + size, size * 2);
                        buffer.ptr = map;
                        store(buffer.ptr, words(size), i -> i);

                        long newPtr = 0;
                        if (before != 0) {
                            newPtr = mremap(map, size, size, flags, map + size + offset);
                            assertRemapped(newPtr);
                            buffer.ptr = newPtr;
                        }

                        int ret = hmmMigrateSysToDev(self.fd, buffer, npages);
                        assertEq("ret", ret, 0);
                        assertEq("buffer->cpages", buffer.cpages, "npages", npages);
                        assertEach("ptr[i]", "i", load(buffer.mirror, words(size)), 0, words(size), i -> i);

                        if (before == 0) {
                            newPtr = mremap(map, size, size, flags, map + size + offset);
                            assertRemapped(newPtr);
                            buffer.ptr = newPtr;
                        }

                        assertEach("ptr[i]", "i", load(buffer.ptr, words(size)), 0, words(size), i -> i);

                        munmap(newPtr, size);
                        buffer.ptr = oldPtr;
                        hmmBufferFree(buffer);
                    }
                }
            }
        }
    }
}
