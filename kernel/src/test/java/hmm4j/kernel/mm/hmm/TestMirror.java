package hmm4j.kernel.mm.hmm;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.sync.Mutex;
import java.util.Map;
import java.util.TreeMap;

/**
 * A minimal mirroring driver for tests: a device "page table" (address → output entry)
 * guarded by a driver mutex, filled by the collision-retry loop of kernel-spec §3.6 and torn
 * down by the interval notifier's {@code invalidate} — optionally with one deliberate flaw.
 *
 * <p>It checks invariant I-16 itself: {@link #checkAgainstCpu} compares every device entry
 * with the CPU page table (same pfn; the device may write only if the CPU entry is
 * writable) and reports a disagreement as an {@link Failure.InvariantViolation}. The check
 * runs right after each programming, and whenever the test calls it after an operation.
 */
final class TestMirror implements MmuIntervalNotifierOps {
    /** I-16's rule name in reports. */
    static final Rule RULE = Rule.own("test.no-stale-device-pte", FailureKind.INVARIANT_VIOLATION,
            "no stale device PTE");

    /** The deliberate flaws a mirror can have. */
    enum Flaw {
        /** A correct driver. */
        NONE,
        /** Programs the device without {@code mmu_interval_read_retry}. */
        SKIPS_READ_RETRY,
        /** Tears down device entries in {@code invalidate} but never calls {@code mmu_interval_set_seq}. */
        SKIPS_SET_SEQ
    }

    private static final long KEPT = HmmPfn.HMM_PFN_VALID | HmmPfn.HMM_PFN_WRITE | ~HmmPfn.HMM_PFN_FLAGS;

    final MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror-sub");
    private final Kernel k;
    private final Flaw flaw;
    private final Mutex lock;
    /** The device page table; guarded by {@link #lock}. */
    private final Map<Long, Long> device = new TreeMap<>();
    private int retries;
    private int programmed;

    TestMirror(Kernel k, Flaw flaw) {
        this.k = k;
        this.flaw = flaw;
        this.lock = new Mutex(k, "mirror->lock");
    }

    @Override
    public boolean invalidate(MmuIntervalNotifier subscription, MmuNotifierRange range, long curSeq) {
        if (range.blockable()) {
            lock.lock();
        } else if (!lock.trylock()) {
            return false;
        }
        if (flaw != Flaw.SKIPS_SET_SEQ) {
            subscription.mmuIntervalSetSeq(curSeq);
        }
        long from = Math.max(range.start(), subscription.start());
        long to = Long.compareUnsigned(range.end() - 1, subscription.last()) < 0 ? range.end() : subscription.last() + 1;
        device.keySet().removeIf(a -> a >= from && a < to);
        lock.unlock();
        return true;
    }

    /**
     * One device fault of {@code npages} pages from {@code start}: the driver loop of §3.6,
     * from {@code mmget_not_zero} to {@code mmput}. Returns 0 or the error of
     * {@code hmm_range_fault}.
     */
    int deviceFault(MmStruct mm, long start, int npages, long defaultFlags) {
        if (!mm.mmgetNotZero()) {
            return -Errno.EFAULT;
        }
        HmmRange range = new HmmRange(sub, start, start + npages * Pte.PAGE_SIZE, new long[npages], defaultFlags, 0,
                this);
        int ret;
        for (;;) {
            range.setNotifierSeq(sub.mmuIntervalReadBegin());
            mm.mmapReadLock();
            ret = Hmm.hmmRangeFault(range);
            mm.mmapReadUnlock();
            if (ret == -Errno.EBUSY) {
                retries++;
                continue;
            }
            if (ret != 0) {
                break;
            }
            lock.lock();
            if (flaw != Flaw.SKIPS_READ_RETRY && sub.mmuIntervalReadRetry(range.notifierSeq())) {
                lock.unlock();
                retries++;
                continue;
            }
            program(range);
            checkLocked(mm, "right after programming");
            lock.unlock();
            break;
        }
        mm.mmput();
        return ret;
    }

    /** Under the lock: one device entry per VALID output, none for the other pages. */
    private void program(HmmRange range) {
        long[] pfns = range.hmmPfns();
        for (int i = 0; i < pfns.length; i++) {
            long addr = range.start() + i * Pte.PAGE_SIZE;
            if ((pfns[i] & HmmPfn.HMM_PFN_VALID) != 0) {
                device.put(addr, pfns[i] & KEPT);
                programmed++;
            } else {
                device.remove(addr);
            }
        }
    }

    /** I-16 now: takes the driver lock, compares, reports a disagreement. The caller holds a pin. */
    void checkAgainstCpu(MmStruct mm, String when) {
        lock.lock();
        checkLocked(mm, when);
        lock.unlock();
    }

    private void checkLocked(MmStruct mm, String when) {
        mm.pageTableLock().lock();
        String stale = null;
        PageTable pt = mm.pgd("mirror check");
        for (Map.Entry<Long, Long> e : device.entrySet()) {
            long pte = pt.get(e.getKey());
            long dev = e.getValue();
            boolean agrees = Pte.isPresent(pte) && !Pte.isProtNone(pte) && Pte.pfn(pte) == HmmPfn.pfn(dev)
                    && ((dev & HmmPfn.HMM_PFN_WRITE) == 0 || Pte.isWrite(pte));
            if (!agrees && stale == null) {
                stale = "device maps 0x" + Long.toHexString(e.getKey()) + " as " + HmmPfn.toString(dev)
                        + " but the CPU entry is " + Pte.toString(pte) + " (" + when + ")";
            }
        }
        mm.pageTableLock().unlock();
        if (stale != null) {
            k.report(new Failure.InvariantViolation(RULE, stale, k.site()));
        }
    }

    /** Collision retries so far (tests check that collisions happened). */
    int retries() {
        return retries;
    }

    /** Device entries programmed so far. */
    int programmed() {
        return programmed;
    }
}
