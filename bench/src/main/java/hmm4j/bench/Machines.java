package hmm4j.bench;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.sim.Kernel;

/**
 * The machine every benchmark runs on: a native-runtime {@link Kernel} without trace or
 * checkers, and a fresh address space in it. Set-up helpers only; nothing here is measured.
 */
final class Machines {
    /** 2^20 pages: 4 GiB of address space, the size of the bar's figures. */
    static final int MILLION_PAGES = 1 << 20;
    /** A PMD- and PUD-aligned user address (4 GiB) where the benchmarks lay out their ranges. */
    static final long BASE = 1L << 32;
    /** One page. */
    static final long PAGE = Pte.PAGE_SIZE;

    private Machines() {
    }

    /**
     * A native kernel (real threads, free scheduling points) that records no trace and
     * captures no per-step sites. No checkers are installed.
     */
    static Kernel nativeKernel() {
        return Kernel.builder().nativeRuntime().trace(false).sites(false).build();
    }

    /**
     * {@code mm_alloc} on {@code kernel}: an empty address space whose first {@code mm_users}
     * reference is held by the kernel's main context (the JMH thread, which is no model task
     * and is therefore exempt from the pin rule, like any set-up code).
     */
    static MmStruct newMm(Kernel kernel) {
        return MmStruct.mmAlloc(kernel, RefHandle.mainContext(kernel));
    }

    /**
     * Ends a set-up that built a large heap (a million pages or subscriptions): full
     * collections now, so that the collector's work on the set-up's garbage and its marking of
     * the new live data (concurrent threads, which on a 2-core machine take the benchmark
     * thread's CPU) is done before the first measured iteration instead of during it.
     */
    static void settleHeap() {
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
    }

    /** Throws {@link IllegalStateException} with {@code message} unless {@code ok}. */
    static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException(message);
        }
    }
}
