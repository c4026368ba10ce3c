package hmm4j.drivers.notifier;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Mutex;

/**
 * S4, the design that was merged (lib/test_hmm.c, nouveau): one interval subscription per
 * mirror covering the whole address space, inserted at open and removed at release, plus a
 * short-lived subscription owned by each call that needs a narrower read section (inserted,
 * used and removed within the call). No lookup of subscription objects is ever needed.
 */
public final class WholeSpaceMirror {
    /** A per-call subscription and the object it lives in, owned by the caller. */
    private static final class CallRange extends KObject {
        final MmuIntervalNotifier sub;

        CallRange(Kernel kernel, String name) {
            super(kernel, name);
            this.sub = new MmuIntervalNotifier(this, name);
        }
    }

    private final Kernel kernel;
    private final MmStruct mm;
    private final Mutex mutex;
    private final MmuIntervalNotifier whole;
    private final MmuIntervalNotifierOps ops;
    private int calls;

    /** Open: subscribes {@code [0, ULONG_MAX & PAGE_MASK)}. Process context. */
    public WholeSpaceMirror(Kernel kernel, MmStruct mm) {
        this.kernel = kernel;
        this.mm = mm;
        this.mutex = new Mutex(kernel, "mirror->mutex");
        this.ops = (sub, range, curSeq) -> {
            if (!InvalidateLock.lockFor(mutex, range)) {
                return false;
            }
            sub.mmuIntervalSetSeq(curSeq);
            mutex.unlock();
            return true;
        };
        this.whole = new MmuIntervalNotifier("mirror->notifier");
        whole.mmuIntervalNotifierInsert(mm, 0, MmuNotifierRange.ULONG_MAX & Pte.PAGE_MASK, ops);
    }

    /**
     * A device snapshot of the page at {@code addr} with a per-call subscription.
     *
     * @return true if the read section closed without a collision
     */
    public boolean snapshot(long addr) {
        CallRange r = new CallRange(kernel, "call" + (++calls));
        r.sub.mmuIntervalNotifierInsert(mm, addr & Pte.PAGE_MASK, Pte.PAGE_SIZE, ops);
        try {
            long seq = r.sub.mmuIntervalReadBegin();
            mutex.lock();
            try {
                return !r.sub.mmuIntervalReadRetry(seq);
            } finally {
                mutex.unlock();
            }
        } finally {
            r.sub.mmuIntervalNotifierRemove();
            r.kfree();
        }
    }

    /** Release: removes the whole-space subscription. */
    public void release() {
        whole.mmuIntervalNotifierRemove();
    }
}
