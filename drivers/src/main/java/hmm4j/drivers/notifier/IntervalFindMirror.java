package hmm4j.drivers.notifier;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierProposed2020;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Mutex;

/**
 * S4: a mirror that keeps one interval subscription per mirrored range and no range tree of
 * its own, finding them with the proposed {@code mmu_interval_notifier_find} (January 2020,
 * not merged) and dropping a range when it is unmapped with the proposed asynchronous
 * {@code mmu_interval_notifier_put}, whose release callback frees the range object.
 *
 * <p>The driver serialises its own calls under {@code mirror->mutex}, as Ralph Campbell
 * argued was enough. It is not: {@code read_begin} must be called without the driver lock
 * (a callback takes it), so the pointer {@link #snapshot} got from {@code find} outlives the
 * lock, and the release runs asynchronously from the end of the unmapping invalidation.
 * The range object can be freed between the find and the use.
 */
public final class IntervalFindMirror {
    /** One mirrored range: the object that embeds its subscription. */
    private static final class Range extends KObject {
        final MmuIntervalNotifier sub;

        Range(Kernel kernel, String name) {
            super(kernel, name);
            this.sub = new MmuIntervalNotifier(this, name);
        }
    }

    private final Kernel kernel;
    private final MmStruct mm;
    private final Mutex mutex;
    private final MmuIntervalNotifierOps ops;
    private int ranges;

    public IntervalFindMirror(Kernel kernel, MmStruct mm) {
        this.kernel = kernel;
        this.mm = mm;
        this.mutex = new Mutex(kernel, "mirror->mutex");
        this.ops = (sub, range, curSeq) -> {
            if (!InvalidateLock.lockFor(mutex, range)) {
                return false;
            }
            sub.mmuIntervalSetSeq(curSeq);
            if (range.event() == MmuNotifierEvent.MMU_NOTIFY_UNMAP
                    && Long.compareUnsigned(range.start(), sub.start()) <= 0
                    && Long.compareUnsigned(range.end() - 1, sub.last()) >= 0) {
                Range r = (Range) sub.container();
                MmuIntervalNotifierProposed2020.mmuIntervalNotifierPut(sub, r::kfree);
            }
            mutex.unlock();
            return true;
        };
    }

    /** Starts mirroring [start, start + length) with a subscription of its own. Process context. */
    public void mirror(long start, long length) {
        Range r = new Range(kernel, "range" + (++ranges));
        r.sub.mmuIntervalNotifierInsert(mm, start, length, ops);
    }

    /**
     * A device snapshot of the page at {@code addr}: finds its range under the driver lock,
     * then opens a read section on it (which must be done without the driver lock).
     *
     * @return true if a range was found and the section closed without a collision
     */
    public boolean snapshot(long addr) {
        mutex.lock();
        MmuIntervalNotifier sub = MmuIntervalNotifierProposed2020.mmuIntervalNotifierFind(mm, ops, addr, addr);
        mutex.unlock();
        if (sub == null) {
            return false;
        }
        long seq = sub.mmuIntervalReadBegin();
        mutex.lock();
        try {
            return !sub.mmuIntervalReadRetry(seq);
        } finally {
            mutex.unlock();
        }
    }
}
