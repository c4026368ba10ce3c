package hmm4j.kernel.mm.hmm;

import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import java.util.Objects;

/**
 * {@code struct hmm_range}: what a driver asks {@link Hmm#hmmRangeFault} to look up — the
 * pages [{@link #start}, {@link #end}) of the mm of an interval {@link #notifier}, with one
 * request/output entry per page in {@link #hmmPfns} ({@code struct hmm_range}, include/linux/hmm.h).
 *
 * <p>Overview. The effective request for page {@code i} is
 * {@code (hmmPfns[i] & pfnFlagsMask) | defaultFlags}, made of {@link HmmPfn#HMM_PFN_REQ_FAULT}
 * and {@link HmmPfn#HMM_PFN_REQ_WRITE}. A driver that faults whole ranges the same way sets
 * {@code defaultFlags} and a mask of 0; one that asks per page sets the mask to the request
 * bits and fills the array. {@link #notifierSeq} is the value of the
 * {@code mmu_interval_read_begin} that opened the current attempt; the driver sets it before
 * every call ({@link #setNotifierSeq}).
 *
 * <p>Lifetime and locking. A plain driver-owned object: the driver uses it from one task at
 * a time. The array is the caller's and is written in place by {@link Hmm#hmmRangeFault}
 * (it is never copied).
 *
 * <p>Differences from the kernel. The kernel validates nothing and leaves a misuse to
 * corrupt memory or to fail in the page walker. Here the construction raises instead:
 * {@link NullPointerException} for a missing notifier or array, and
 * {@link IllegalArgumentException} for unaligned bounds, bounds outside the user address
 * space or with {@code start > end}, an array whose length is not
 * {@code (end - start) / PAGE_SIZE}, or {@code defaultFlags} holding anything but the two
 * request bits. An empty range ({@code start == end}) is accepted and, as in the kernel,
 * {@code hmm_range_fault} then returns {@code -EINVAL} from the walker. The struct's
 * {@code start}, {@code end}, array, flags and owner are final here; a driver that covers
 * another range builds another {@code HmmRange}.
 */
public final class HmmRange {
    private static final long REQUEST_FLAGS = HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE;

    private final MmuIntervalNotifier notifier;
    private final long start;
    private final long end;
    private final long[] hmmPfns;
    private final long defaultFlags;
    private final long pfnFlagsMask;
    private final Object devPrivateOwner;
    private long notifierSeq;

    /**
     * A range over [{@code start}, {@code end}) of {@code notifier}'s mm.
     *
     * @param notifier        the interval subscription whose sequence guards the result
     * @param start           first address, page aligned
     * @param end             end address (exclusive), page aligned, {@code >= start}
     * @param hmmPfns         one entry per page: requests (and sticky bits) in, outputs out
     * @param defaultFlags    request bits applied to every page (REQ_FAULT, REQ_WRITE or 0)
     * @param pfnFlagsMask    which bits of each {@code hmmPfns} entry are read as a request
     * @param devPrivateOwner the owner compared with a device-private page's
     *                        {@code pgmap->owner} (by identity); may be null (then no
     *                        device-private page is reported as owned)
     * @throws IllegalArgumentException on the misuses listed in the class comment
     */
    public HmmRange(MmuIntervalNotifier notifier, long start, long end, long[] hmmPfns, long defaultFlags,
                    long pfnFlagsMask, Object devPrivateOwner) {
        this.notifier = Objects.requireNonNull(notifier, "notifier");
        this.hmmPfns = Objects.requireNonNull(hmmPfns, "hmmPfns");
        if (!Pte.isPageAligned(start) || !Pte.isPageAligned(end)) {
            throw new IllegalArgumentException("hmm_range bounds must be page aligned: [0x" + Long.toHexString(start)
                    + ", 0x" + Long.toHexString(end) + ")");
        }
        if (start < 0 || start > end || end > Pte.TASK_SIZE) {
            throw new IllegalArgumentException("hmm_range [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(end) + ") is not a range of user addresses");
        }
        long npages = (end - start) >>> Pte.PAGE_SHIFT;
        if (hmmPfns.length != npages) {
            throw new IllegalArgumentException("hmm_pfns has " + hmmPfns.length + " entries for a range of "
                    + npages + " pages");
        }
        if ((defaultFlags & ~REQUEST_FLAGS) != 0) {
            throw new IllegalArgumentException("default_flags may hold only HMM_PFN_REQ_FAULT and HMM_PFN_REQ_WRITE: 0x"
                    + Long.toHexString(defaultFlags));
        }
        this.start = start;
        this.end = end;
        this.defaultFlags = defaultFlags;
        this.pfnFlagsMask = pfnFlagsMask;
        this.devPrivateOwner = devPrivateOwner;
    }

    /** {@code range->notifier}: its {@code mm} is the address space walked. */
    public MmuIntervalNotifier notifier() {
        return notifier;
    }

    /** {@code range->notifier_seq}: the sequence the current attempt started from. */
    public long notifierSeq() {
        return notifierSeq;
    }

    /** Sets {@code range->notifier_seq} to the value {@code mmu_interval_read_begin} returned. */
    public void setNotifierSeq(long seq) {
        this.notifierSeq = seq;
    }

    /** {@code range->start}: first address, inclusive. */
    public long start() {
        return start;
    }

    /** {@code range->end}: end address, exclusive. */
    public long end() {
        return end;
    }

    /** {@code range->hmm_pfns}: the caller's array itself, written in place. */
    public long[] hmmPfns() {
        return hmmPfns;
    }

    /** {@code range->default_flags}. */
    public long defaultFlags() {
        return defaultFlags;
    }

    /** {@code range->pfn_flags_mask}. */
    public long pfnFlagsMask() {
        return pfnFlagsMask;
    }

    /** {@code range->dev_private_owner}. */
    public Object devPrivateOwner() {
        return devPrivateOwner;
    }

    /** The number of pages, {@code (end - start) / PAGE_SIZE}. */
    public int npages() {
        return hmmPfns.length;
    }

    /** The index in {@link #hmmPfns} of the page at {@code addr}. */
    public int index(long addr) {
        return (int) ((addr - start) >>> Pte.PAGE_SHIFT);
    }

    @Override
    public String toString() {
        return "hmm_range [0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ") of " + notifier.name()
                + " default=0x" + Long.toHexString(defaultFlags) + " mask=0x" + Long.toHexString(pfnFlagsMask);
    }
}
