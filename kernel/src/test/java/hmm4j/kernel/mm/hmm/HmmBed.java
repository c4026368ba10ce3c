package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.SwapSpace;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.migrate.TestDevice;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.sync.Mutex;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The set-up shared by the {@code hmm_range_fault} tests: a process whose address space has
 * an interval subscription over all user addresses, with helpers to lay out VMAs and
 * page-table entries by hand and to call {@link Hmm#hmmRangeFault} the way a driver does.
 *
 * <p>The subscription's {@code invalidate} takes a driver mutex, calls
 * {@code mmu_interval_set_seq} and counts the call, so a test can see both the collision
 * ({@code -EBUSY}) and how many invalidations an operation caused.
 */
final class HmmBed implements MmuIntervalNotifierOps {
    static final long PAGE = Pte.PAGE_SIZE;
    /** A PMD-aligned address where the tests lay out their VMAs. */
    static final long BASE = 0x1000_0000L;
    /** Read-write private anonymous memory. */
    static final long RW = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE;
    /** Read-only private anonymous memory (may become writable). */
    static final long RO = VmFlags.VM_READ | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE;
    static final long REQ_FAULT = HmmPfn.HMM_PFN_REQ_FAULT;
    static final long REQ_WRITE = HmmPfn.HMM_PFN_REQ_WRITE;
    static final long VALID = HmmPfn.HMM_PFN_VALID;
    static final long WRITE = HmmPfn.HMM_PFN_WRITE;
    static final long ERROR = HmmPfn.HMM_PFN_ERROR;
    static final int EBUSY = -Errno.EBUSY;
    static final int EFAULT = -Errno.EFAULT;
    static final int EPERM = -Errno.EPERM;

    final Kernel k;
    final MmStruct mm;
    final PhysMem phys;
    final MmuIntervalNotifier sub = new MmuIntervalNotifier("hmm-test-sub");
    final Mutex driverLock;
    private int invalidations;
    private final Map<Object, TestDevice> devices = new IdentityHashMap<>();
    /** Pages of {@link #sharedAnonPage}, each holding one reference for its other sharer. */
    private final List<Page> otherSharers = new ArrayList<>();

    private HmmBed(Kernel k, MmStruct mm) {
        this.k = k;
        this.mm = mm;
        this.phys = PhysMem.of(k);
        this.driverLock = new Mutex(k, "test-driver->lock");
    }

    /** A test body, run in the process after the subscription is inserted. */
    @FunctionalInterface
    interface Body {
        void run(HmmBed bed);
    }

    /** Runs {@code body} on a fresh checked kernel and asserts the run was clean and reached its end. */
    static void runClean(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        AtomicBoolean done = new AtomicBoolean();
        RunResult r = run(k, bed -> {
            body.run(bed);
            done.set(true);
        });
        assertClean(r);
        assertTrue(done.get(), "the body ran to its end");
    }

    /** Spawns the process running {@code body} on {@code k} and runs the kernel. */
    static RunResult run(Kernel k, Body body) {
        Process.spawn(k, "proc", self -> {
            HmmBed bed = new HmmBed(k, MmStruct.of(self));
            assertEquals(0, bed.sub.mmuIntervalNotifierInsert(bed.mm, 0, Pte.TASK_SIZE, bed));
            body.run(bed);
            bed.sub.mmuIntervalNotifierRemove();
            bed.dropOtherSharers();
        });
        return k.run();
    }

    @Override
    public boolean invalidate(MmuIntervalNotifier subscription, MmuNotifierRange range, long curSeq) {
        if (range.blockable()) {
            driverLock.lock();
        } else if (!driverLock.trylock()) {
            return false;
        }
        subscription.mmuIntervalSetSeq(curSeq);
        invalidations++;
        driverLock.unlock();
        return true;
    }

    /** How many times the subscription was invalidated so far. */
    int invalidations() {
        return invalidations;
    }

    // ---- layout ----

    /** Links an anonymous VMA over {@code pages} pages at {@code start} with {@code flags}. */
    void vma(long start, long pages, long flags) {
        mm.mmapWriteLock();
        try {
            mm.vmas("test layout").insert(Vma.anonymous(start, start + pages * PAGE, flags));
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** Sets the entry of {@code addr} under the page-table lock. */
    void set(long addr, long pte) {
        mm.pageTableLock().lock();
        try {
            mm.pgd("test layout").set(addr, pte);
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    /** The entry of {@code addr}, read under the page-table lock. */
    long pte(long addr) {
        mm.pageTableLock().lock();
        try {
            return mm.pgd("test check").get(addr);
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    /** Maps a new anonymous page at {@code addr} (present, writable or not) and returns its pfn. */
    long anonPage(long addr, boolean write) {
        Page p = phys.allocPage();
        p.setFlag(Page.PG_ANON);
        p.incMapcount();
        set(addr, Pte.mkPresent(p.pfn(), write));
        return p.pfn();
    }

    /**
     * Maps a read-only anonymous page at {@code addr} that someone else also references (as
     * after fork), so that a write fault must copy it. Returns its pfn.
     */
    long sharedAnonPage(long addr) {
        long pfn = anonPage(addr, false);
        Page page = phys.pfnToPage(pfn);
        page.get();
        otherSharers.add(page);
        return pfn;
    }

    /** The other sharers of {@link #sharedAnonPage}s go away: their references are dropped. */
    private void dropOtherSharers() {
        for (Page page : otherSharers) {
            page.put();
        }
        otherSharers.clear();
    }

    /** Puts a swap entry at {@code addr} whose slot holds a page starting with {@code marker}. */
    void swapEntry(long addr, byte marker) {
        Page p = phys.allocPage();
        p.writeByte(0, marker);
        long offset = SwapSpace.of(k).allocate(p);
        p.put();
        set(addr, Pte.mkSwap(offset));
    }

    /**
     * Puts a device-private entry at {@code addr} the way a driver does: maps an anonymous
     * page there (writable or not), writes {@code marker} into it, and migrates it to the
     * device of {@code owner}. The entry is writable iff the page was. Returns the device
     * page, or null if the VMA cannot migrate (then the anonymous page stays).
     */
    Page devicePrivate(long addr, Object owner, boolean write, byte marker) {
        long pfn = anonPage(addr, write);
        phys.pfnToPage(pfn).writeByte(0, marker);
        if (device(owner).migrateToDevice(mm, addr, 1, null) != 1) {
            return null;
        }
        return phys.pfnToPage(Pte.pfn(pte(addr)));
    }

    /** {@link #devicePrivate(long, Object, boolean, byte)} with marker 0. */
    Page devicePrivate(long addr, Object owner, boolean write) {
        return devicePrivate(addr, owner, write, (byte) 0);
    }

    /** The test device whose pgmap owner is {@code owner}, created on first use. */
    TestDevice device(Object owner) {
        return devices.computeIfAbsent(owner, o -> new TestDevice(k, o, "gpu" + devices.size(), 1024));
    }

    // ---- calling hmm_range_fault ----

    /** A range over {@code pages} pages from {@code start} whose array holds {@code inputs} (zeros if omitted). */
    HmmRange range(long start, int pages, long defaultFlags, long mask, Object owner, long... inputs) {
        long[] pfns = new long[pages];
        System.arraycopy(inputs, 0, pfns, 0, inputs.length);
        return new HmmRange(sub, start, start + pages * PAGE, pfns, defaultFlags, mask, owner);
    }

    /** One attempt as a driver makes it: read_begin, then hmm_range_fault under the mmap read lock. */
    int fault(HmmRange range) {
        range.setNotifierSeq(sub.mmuIntervalReadBegin());
        mm.mmapReadLock();
        try {
            return Hmm.hmmRangeFault(range);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /**
     * Attempts until the answer is not {@code -EBUSY}, refilling the array with
     * {@code inputs} before each attempt (§4.6); at most 8 attempts.
     */
    int faultUntilNotBusy(HmmRange range, long... inputs) {
        int ret = 0;
        for (int attempt = 0; attempt < 8; attempt++) {
            Arrays.fill(range.hmmPfns(), 0);
            System.arraycopy(inputs, 0, range.hmmPfns(), 0, inputs.length);
            ret = fault(range);
            if (ret != EBUSY) {
                return ret;
            }
        }
        return ret;
    }

    /** The expected output for a present entry: its pfn with VALID, and WRITE if writable. */
    static long output(long pte) {
        return Pte.pfn(pte) | VALID | (Pte.isWrite(pte) ? WRITE : 0);
    }

    /** Renders an array for assertion messages. */
    static String show(long[] pfns) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < pfns.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(HmmPfn.toString(pfns[i]));
        }
        return sb.append(']').toString();
    }
}
