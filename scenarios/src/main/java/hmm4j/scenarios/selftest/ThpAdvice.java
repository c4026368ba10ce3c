package hmm4j.scenarios.selftest;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;

/**
 * {@code madvise(MADV_HUGEPAGE)} and {@code madvise(MADV_NOHUGEPAGE)} as the tests with a
 * {@code use_thp} loop call them.
 *
 * <p>Overview. The advice goes to the model's {@link Madvise}. Where the model answers
 * {@code -EINVAL} to a well-formed call, it has no transparent huge pages at all (a kernel
 * built without {@code CONFIG_TRANSPARENT_HUGEPAGE} answers the same); the call then returns 0,
 * as a kernel with THP set to "never" would: the range keeps base pages, which is what the
 * tests' base-page iterations check anyway. Once the model has THP, its answer is returned as
 * it is.
 */
final class ThpAdvice {
    /** {@code MADV_HUGEPAGE} (Linux's value). */
    static final int MADV_HUGEPAGE = 14;
    /** {@code MADV_NOHUGEPAGE}. */
    static final int MADV_NOHUGEPAGE = 15;

    private ThpAdvice() {
    }

    /** {@code madvise(addr, len, advice)} for the two THP advices: 0 or a negated errno. */
    static int madvise(MmStruct mm, long addr, long len, int advice) {
        if (advice != MADV_HUGEPAGE && advice != MADV_NOHUGEPAGE) {
            throw new IllegalArgumentException("not a THP advice: " + advice);
        }
        int ret = Madvise.madvise(mm, addr, len, advice);
        boolean wellFormed = Pte.isPageAligned(addr) && len > 0 && addr + len > addr;
        return ret == -Errno.EINVAL && wellFormed ? 0 : ret;
    }
}
