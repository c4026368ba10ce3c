package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;

/**
 * The {@code gup_test} debugfs file ({@code /sys/kernel/debug/gup_test}, mm/gup_test.c,
 * mm/gup_test.h): an ioctl that takes references or pins on a user range of the calling
 * process with one of the GUP calls, checks nothing the model can get wrong, and puts them all
 * back before returning.
 *
 * <p>Overview. {@link #ioctl} walks [{@code addr}, {@code addr + size}) in calls of
 * {@code nr_pages_per_call} pages with the call the command names ({@link #GUP_FAST_BENCHMARK}:
 * {@link Gup#getUserPagesFast}, {@link #GUP_BASIC_TEST}: {@link Gup#getUserPages},
 * {@link #PIN_FAST_BENCHMARK}: {@link Gup#pinUserPagesFast}, {@link #PIN_BASIC_TEST}:
 * {@link Gup#pinUserPages}, {@link #PIN_LONGTERM_BENCHMARK}: {@link Gup#pinUserPages} with
 * {@code FOLL_LONGTERM}), stopping at the first call that takes fewer pages than asked, then
 * puts the references back ({@code put_page}) or unpins. On return {@code size} is the bytes
 * walked. As in the kernel, a GUP that fails does not fail the ioctl: it returns 0 and the
 * effect (pages faulted in, device pages migrated back) is what a test checks.
 *
 * <p>Locking: the slow commands hold the caller's mmap read lock around the walk, the fast
 * ones do not (their calls take it themselves when they fall back).
 *
 * <p>Differences from the kernel: the command numbers are the {@code nr} of the kernel's
 * {@code _IOWR('g', nr, struct gup_test)}; {@code get_delta_usec} and {@code put_delta_usec}
 * count scheduling steps of the model, not microseconds; {@code DUMP_USER_PAGES_TEST} takes
 * and puts back the pages without printing them; the {@code PIN_LONGTERM_TEST_*} commands are
 * not offered ({@code -EINVAL}); {@code verify_dma_pinned}'s warning cannot fire, as the model's
 * pin counts are exact.
 */
public final class GupTest {
    /** {@code GUP_FAST_BENCHMARK}: {@code get_user_pages_fast}. */
    public static final int GUP_FAST_BENCHMARK = 1;
    /** {@code PIN_FAST_BENCHMARK}: {@code pin_user_pages_fast}. */
    public static final int PIN_FAST_BENCHMARK = 2;
    /** {@code PIN_LONGTERM_BENCHMARK}: {@code pin_user_pages} with {@code FOLL_LONGTERM}. */
    public static final int PIN_LONGTERM_BENCHMARK = 3;
    /** {@code GUP_BASIC_TEST}: {@code get_user_pages}. */
    public static final int GUP_BASIC_TEST = 4;
    /** {@code PIN_BASIC_TEST}: {@code pin_user_pages}. */
    public static final int PIN_BASIC_TEST = 5;
    /** {@code DUMP_USER_PAGES_TEST}: get (or pin, with {@link #GUP_TEST_FLAG_DUMP_PAGES_USE_PIN}) and put back. */
    public static final int DUMP_USER_PAGES_TEST = 6;
    /** {@code GUP_TEST_FLAG_DUMP_PAGES_USE_PIN}. */
    public static final int GUP_TEST_FLAG_DUMP_PAGES_USE_PIN = 0x1;

    /** {@code struct gup_test}: the ioctl's argument, read and written back. */
    public static final class Args {
        public long getDeltaUsec;
        public long putDeltaUsec;
        public long addr;
        public long size;
        public int nrPagesPerCall;
        public int gupFlags;
        public int testFlags;
    }

    private final Kernel kernel;

    private GupTest(Kernel kernel) {
        this.kernel = kernel;
    }

    /** {@code open("/sys/kernel/debug/gup_test", O_RDWR)}: the model is always built with {@code CONFIG_GUP_TEST}. */
    public static GupTest open(Kernel kernel) {
        return new GupTest(kernel);
    }

    /** {@code close}: nothing is held between calls. */
    public int close() {
        return 0;
    }

    /**
     * {@code gup_test_ioctl} for the calling process ({@code current->mm}).
     *
     * @return 0, or {@code -EINVAL} for an unknown command or a range that wraps,
     *         {@code -EFAULT} when called outside a process
     */
    public int ioctl(int cmd, Args gup) {
        if (cmd < GUP_FAST_BENCHMARK || cmd > DUMP_USER_PAGES_TEST) {
            return -Errno.EINVAL;
        }
        MmStruct mm = MmStruct.of(kernel.current());
        if (mm == null) {
            return -Errno.EFAULT;
        }
        if (gup.size < 0 || gup.addr < 0 || gup.addr + gup.size < gup.addr) {
            return -Errno.EINVAL;
        }
        long end = gup.addr + gup.size;
        int nrPages = (int) Math.min(Integer.MAX_VALUE, gup.size / Pte.PAGE_SIZE);
        Page[] pages = new Page[nrPages];
        boolean needsMmapLock = cmd != GUP_FAST_BENCHMARK && cmd != PIN_FAST_BENCHMARK;
        if (needsMmapLock) {
            mm.mmapReadLock();
        }
        try {
            long startStep = kernel.runtime().step();
            int i = 0;
            int nr = gup.nrPagesPerCall;
            long addr = gup.addr;
            while (addr < end && nr == gup.nrPagesPerCall && nr > 0) {
                long next = addr + (long) nr * Pte.PAGE_SIZE;
                if (next > end) {
                    next = end;
                    nr = (int) ((next - addr) / Pte.PAGE_SIZE);
                }
                nr = call(mm, cmd, gup, addr, nr, pages, i);
                if (nr <= 0) {
                    break;
                }
                i += nr;
                addr = next;
            }
            gup.getDeltaUsec = kernel.runtime().step() - startStep;
            gup.size = addr - gup.addr;
            startStep = kernel.runtime().step();
            putBackPages(mm, cmd, pages, i, gup.testFlags);
            gup.putDeltaUsec = kernel.runtime().step() - startStep;
            return 0;
        } finally {
            if (needsMmapLock) {
                mm.mmapReadUnlock();
            }
        }
    }

    /** One GUP call of the command into {@code pages[offset..]}; its count or errno. */
    private static int call(MmStruct mm, int cmd, Args gup, long addr, int nr, Page[] pages, int offset) {
        Page[] into = offset == 0 ? pages : new Page[nr];
        int got = switch (cmd) {
            case GUP_FAST_BENCHMARK -> Gup.getUserPagesFast(mm, addr, nr, gup.gupFlags, into);
            case GUP_BASIC_TEST -> Gup.getUserPages(mm, addr, nr, gup.gupFlags, into);
            case PIN_FAST_BENCHMARK -> Gup.pinUserPagesFast(mm, addr, nr, gup.gupFlags, into);
            case PIN_BASIC_TEST -> Gup.pinUserPages(mm, addr, nr, gup.gupFlags, into);
            case PIN_LONGTERM_BENCHMARK -> Gup.pinUserPages(mm, addr, nr, gup.gupFlags | Gup.FOLL_LONGTERM, into);
            default -> (gup.testFlags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN) != 0
                    ? Gup.pinUserPages(mm, addr, nr, gup.gupFlags, into)
                    : Gup.getUserPages(mm, addr, nr, gup.gupFlags, into);
        };
        if (into != pages && got > 0) {
            System.arraycopy(into, 0, pages, offset, got);
        }
        return got;
    }

    /** {@code put_back_pages}: {@code put_page} for the get commands, {@code unpin_user_pages} for the pin ones. */
    private static void putBackPages(MmStruct mm, int cmd, Page[] pages, int n, int testFlags) {
        boolean pinned = cmd == PIN_FAST_BENCHMARK || cmd == PIN_BASIC_TEST || cmd == PIN_LONGTERM_BENCHMARK
                || (cmd == DUMP_USER_PAGES_TEST && (testFlags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN) != 0);
        if (pinned) {
            Gup.unpinUserPages(mm, pages, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            pages[i].put();
        }
    }
}
