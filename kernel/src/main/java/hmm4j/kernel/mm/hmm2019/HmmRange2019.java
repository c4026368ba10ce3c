package hmm4j.kernel.mm.hmm2019;

import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.GET;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P02;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P05;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P07;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P10;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import java.util.Arrays;

/**
 * {@code struct hmm_range} of v5.2 to v5.4 (include/linux/hmm.h): a virtual range a driver
 * mirrors, registered on the mm's {@code struct hmm} so invalidations clear its
 * {@code valid} flag, and the pfns array {@code hmm_range_snapshot}/{@code hmm_range_fault}
 * ({@link Hmm2019Walk}) fill.
 *
 * <p>Overview: {@code valid} is written under the hmm's ranges lock and read without one;
 * it means "no invalidation in flight", not "nothing changed since the walk" (I-H14, the
 * flaw that made 5.5 replace it by a sequence count). States: new, registered, unregistered;
 * v5.2 resets {@code range->hmm} to NULL on unregister and tolerates a second one; v5.3
 * poisons it (P10), so any later API call on the range is reported (I-H11).
 *
 * <p>References: v5.2 and v5.3 hold a kref on the hmm (under this range's own holder);
 * v5.3 also an {@code mm_users} reference, taken by the registering task (P07), which the
 * unregistering task drops (the model's ledger wants them to be the same task). v5.4 holds
 * only the {@code mm_users} reference.
 *
 * <p>Encoding: {@link #PFN_SHIFT}, {@link #FLAG_VALID}, {@link #FLAG_WRITE},
 * {@link #VALUE_NONE}, {@link #VALUE_ERROR}: one fixed choice of the driver's
 * {@code flags[]}/{@code values[]} tables.
 */
public final class HmmRange2019 {
    /** {@code range->pfn_shift} of this encoding. */
    public static final int PFN_SHIFT = 8;
    /** {@code flags[HMM_PFN_VALID]}: as a request, "fault the page in". */
    public static final long FLAG_VALID = 1;
    /** {@code flags[HMM_PFN_WRITE]}: as a request, "fault it in writable". */
    public static final long FLAG_WRITE = 2;
    /** {@code values[HMM_PFN_NONE]}. */
    public static final long VALUE_NONE = 0;
    /** {@code values[HMM_PFN_ERROR]}. */
    public static final long VALUE_ERROR = 4;
    /** {@code HMM_RANGE_DEFAULT_TIMEOUT}, in milliseconds. */
    public static final long DEFAULT_TIMEOUT_MS = 1000;

    enum State { NEW, REGISTERED, UNREGISTERED }

    private static final Op.Kind READ_VALID = new Op.Kind("READ_ONCE", Op.Access.READ);

    private final Kernel kernel;
    private final String name;
    private final RefHandle handle;
    private final Op readValidOp;
    final Op beforeFindVma;
    final Op beforeWalk;
    private long start;
    private long end;
    private long[] pfns;
    private long defaultFlags;
    private long pfnFlagsMask = -1L;
    private int pageShift = Pte.PAGE_SHIFT;
    private volatile boolean valid;
    private volatile Hmm2019 hmm;
    private volatile State state = State.NEW;
    private volatile Hmm2019Config config;
    private volatile MmStruct pinned;
    private volatile Task pinnedBy;
    private Vma vma;

    /**
     * A range with its output array; {@code start}/{@code end} are those of v5.4, where the
     * caller presets them (v5.2/v5.3 set them again at register).
     */
    public HmmRange2019(Kernel kernel, String name, long start, long end, long[] pfns) {
        this.kernel = kernel;
        this.name = name;
        this.handle = new RefHandle(name);
        this.start = start;
        this.end = end;
        this.pfns = pfns;
        Op.Target t = kernel.newTarget(name);
        this.readValidOp = Op.of(READ_VALID, kernel.newTarget(name + "->valid"));
        this.beforeFindVma = Op.of(Hmm2019Windows.BEFORE_FIND_VMA, t);
        this.beforeWalk = Op.of(Hmm2019Windows.BEFORE_WALK, t);
    }

    // ---- driver-owned fields ----

    public String name() { return name; }

    /** The kernel. */
    public Kernel kernel() { return kernel; }

    /** True if this range's configuration poisons it on unregister (P10). */
    boolean poisons() {
        Hmm2019Config c = config;
        return c != null && c.has(P10);
    }

    public long start() { return start; }

    public long end() { return end; }

    /** {@code range->pfns}; stays the driver's after unregister. */
    public long[] pfns() { return pfns; }

    /** Sets the request bits: {@code default_flags} and {@code pfn_flags_mask}. */
    public void setRequest(long defaultFlags, long pfnFlagsMask) {
        this.defaultFlags = defaultFlags;
        this.pfnFlagsMask = pfnFlagsMask;
    }

    long defaultFlags() { return defaultFlags; }

    long pfnFlagsMask() { return pfnFlagsMask; }

    int pageShift() { return pageShift; }

    /** The last VMA walked ({@code range->vma}). */
    public Vma vma() { return vma; }

    void setVma(Vma vma) { this.vma = vma; }

    /** True between a successful register and its unregister. */
    public boolean isRegistered() { return state == State.REGISTERED; }

    /** {@code range->hmm} without checks (tests). */
    public Hmm2019 hmmPeek() { return hmm; }

    /** The holder of this range's kref. */
    public RefHandle handle() { return handle; }

    // ---- valid ----

    /** {@code READ_ONCE(range->valid)}: a scheduling point. */
    boolean readValid() {
        kernel.point(readValidOp);
        return valid;
    }

    /** Writes {@code range->valid}; the caller holds the hmm's ranges lock (asserted). */
    void setValidLocked(boolean v) {
        Hmm2019 h = hmm;
        if (h != null) {
            h.assertRangesLocked();
        }
        valid = v;
    }

    /** {@code range->valid} without a scheduling point (wait conditions, tests). */
    public boolean validPeek() {
        return valid;
    }

    // ---- register / unregister ----

    private int prepare(long s, long e, int shift) {
        if (state == State.REGISTERED) {
            kernel.report(new Failure.InvariantViolation(Hmm2019Rules.RANGE_UNREGISTER_ONCE,
                    name + " registered twice (hmm_range_register on a registered range)", kernel.site()));
            return -Errno.EINVAL;
        }
        valid = false;
        hmm = null;
        long mask = (1L << shift) - 1;
        if ((s & mask) != 0 || (e & mask) != 0 || s >= e) {
            return -Errno.EINVAL;
        }
        pageShift = shift;
        start = s;
        end = e;
        return 0;
    }

    /**
     * {@code hmm_range_register(range, mm, start, end, page_shift)} of v5.2: gets or
     * creates the mm's hmm (so it may register a notifier: the caller must then hold the mmap
     * lock for write, which the documented pattern does not), refuses a dead one.
     *
     * @return 0; {@code -EINVAL} for a misaligned or empty range; {@code -EFAULT} if no hmm
     *         could be had or it is dead (then {@code range->hmm} is left set, as in v5.2)
     * @throws IllegalStateException in a configuration with P02 (use {@link #register(HmmMirror, long, long, int)})
     */
    public int register(MmStruct mm, long s, long e, int shift) {
        kernel.note("hmm_range_register");
        Hmm2019Config c = MmHmm.of(mm).config();
        if (c.has(P02)) {
            throw new IllegalStateException("hmm_range_register takes the mirror in " + c.label());
        }
        int ret = prepare(s, e, shift);
        if (ret != 0) {
            return ret;
        }
        config = c;
        Hmm2019 before = MmHmm.of(mm).peek();
        Hmm2019 h = Hmm2019.getOrCreate(mm, handle);
        if (h == null) {
            return -Errno.EFAULT;
        }
        hmm = h;
        if (h.readDead()) {
            h.put(handle);
            return -Errno.EFAULT;
        }
        link(h, h != before);
        return 0;
    }

    /**
     * {@code hmm_range_register(range, mirror, start, end, page_shift)} of v5.3 (P02): the
     * mirror must stay registered; takes {@code mmget_not_zero} (P07) and a kref.
     *
     * @return 0; {@code -EINVAL} for a misaligned or empty range; {@code -EFAULT} if the
     *         address space is gone (or, before P07, the hmm is dead)
     * @throws IllegalStateException in a configuration without P02
     */
    public int register(HmmMirror mirror, long s, long e, int shift) {
        kernel.note("hmm_range_register");
        Hmm2019 h = mirror.hmm();
        if (h == null) {
            kernel.report(new Failure.InvariantViolation(Hmm2019Rules.NULL_HMM,
                    "hmm_range_register(" + name + ") on " + mirror.name() + ", which is not registered", kernel.site()));
            return -Errno.EFAULT;
        }
        Hmm2019Config c = h.config();
        if (!c.has(P02)) {
            throw new IllegalStateException("hmm_range_register takes the mm in " + c.label());
        }
        int ret = prepare(s, e, shift);
        if (ret != 0) {
            return ret;
        }
        config = c;
        if (c.has(P07)) {
            MmStruct mm = h.mm();
            if (!mm.mmgetNotZero()) {
                return -Errno.EFAULT;
            }
            pinned = mm;
            pinnedBy = kernel.current();
            kernel.mark(Hmm2019.RANGE_MMGET);
        } else if (h.readDead()) {
            return -Errno.EFAULT;
        }
        hmm = h;
        if (!c.has(GET)) {
            h.kget(handle);
        }
        link(h, false);
        return 0;
    }

    /** {@code hmm_range_register(range, mirror)} of v5.4: start and end preset by the caller. */
    public int register(HmmMirror mirror) {
        Hmm2019 h = mirror.hmm();
        if (h != null && !h.config().has(GET)) {
            throw new IllegalStateException("hmm_range_register(range, mirror) is v5.4's; this is " + h.config().label());
        }
        return register(mirror, start, end, Pte.PAGE_SHIFT);
    }

    /**
     * Adds the range to {@code h}; {@code created}: this registration made the hmm (v5.2), so
     * it has no mirror, which is I-H12 (a concurrent last mirror unregister is not judged here).
     */
    private void link(Hmm2019 h, boolean created) {
        h.rangesLock();
        h.ranges().add(this);
        valid = h.notifiers() == 0;
        h.rangesUnlock();
        state = State.REGISTERED;
        if (created && h.mirrorCountPeek() == 0) {
            kernel.report(new Failure.InvariantViolation(Hmm2019Rules.RANGE_ON_MIRRORED_HMM,
                    name + " registered on " + h.name() + ", which has no mirror", kernel.site()));
        }
    }

    /**
     * {@code hmm_range_unregister}. v5.2: silent if {@code range->hmm} is NULL (a second
     * unregister passes unnoticed). v5.3: drops the mmget (which may run {@code exit_mmap} in
     * the caller, so it may sleep) and the kref, clears {@code valid} and poisons
     * {@code range->hmm}: a second call is reported.
     */
    public void unregister() {
        kernel.note("hmm_range_unregister");
        Hmm2019Config c = config;
        if (c == null || !c.has(P10)) {
            Hmm2019 h = hmm;
            if (h == null || end <= start) {
                return;
            }
            checkHmmLive(h, "hmm_range_unregister");
            h.rangesLock();
            h.ranges().remove(this);
            h.rangesUnlock();
            valid = false;
            if (c.has(P07) && pinned != null) {
                MmStruct mm = pinned;
                pinned = null;
                mm.mmput();
            }
            h.put(handle);
            hmm = null;
            state = State.UNREGISTERED;
            return;
        }
        Hmm2019 h = checkUse("hmm_range_unregister");
        if (h == null) {
            return;
        }
        h.rangesLock();
        h.ranges().remove(this);
        h.rangesUnlock();
        MmStruct mm = pinned;
        pinned = null;
        if (mm != null) {
            mm.mmput();
        }
        if (!c.has(GET)) {
            h.put(handle);
        }
        valid = false;
        hmm = null;
        state = State.UNREGISTERED;
    }

    /** The task whose {@code mm_users} reference this range holds (v5.3), or null. */
    public Task pinnedBy() {
        return pinnedBy;
    }

    /**
     * The hmm of a registered range, for an API call {@code what}. v5.3 (P10) reports a call
     * on a range never registered or already unregistered (the poisoned pointer) and returns
     * null; v5.2 returns {@code range->hmm}, possibly null. Checks I-H1.
     */
    Hmm2019 checkUse(String what) {
        Hmm2019Config c = config;
        if (state != State.REGISTERED && (c == null || c.has(P10))) {
            kernel.report(new Failure.InvariantViolation(Hmm2019Rules.RANGE_UNREGISTER_ONCE, what + " on " + name
                    + (state == State.NEW ? ", which was never registered" : " after hmm_range_unregister (poisoned hmm pointer)"),
                    kernel.site()));
            return null;
        }
        Hmm2019 h = hmm;
        if (h != null) {
            checkHmmLive(h, what);
        }
        return h;
    }

    private void checkHmmLive(Hmm2019 h, String what) {
        if (h.isFreed()) {
            kernel.report(new Failure.UseAfterFree(h.name(), what + " of " + name, h.allocSite(), h.freeSite(),
                    kernel.site(), Hmm2019Rules.RANGE_HMM_LIVE));
        }
    }

    // ---- wait / valid ----

    /**
     * {@code hmm_range_wait_until_valid}: true if the range is valid, waiting up to
     * {@code timeoutMs} (virtual) for an invalidation to end. v5.2 returns at once when it is
     * already valid (no {@code might_sleep}) and false when the hmm is dead; v5.3 (P05) is
     * {@code wait_event_timeout} alone, which always may sleep. May sleep.
     */
    public boolean waitUntilValid(long timeoutMs) {
        Hmm2019 h = checkUse("hmm_range_wait_until_valid");
        long nanos = timeoutMs * 1_000_000L;
        Hmm2019Config c = config;
        if (h == null) {
            valid = false;
            return false;
        }
        if (!c.has(P05)) {
            if (h.readDead()) {
                valid = false;
                return false;
            }
            if (readValid()) {
                return true;
            }
            h.wq().waitEventTimeout(() -> valid || h.deadPeek(), nanos);
            return readValid();
        }
        return h.wq().waitEventTimeout(() -> valid, nanos) != 0;
    }

    /**
     * {@code hmm_range_valid}: {@code range->valid}, meaningful only under the driver's
     * device page-table lock (the lock its sync callback takes), and even then blind to an
     * invalidation that started and ended since the walk (I-H14).
     */
    public boolean valid() {
        checkUse("hmm_range_valid");
        return readValid();
    }

    /** Sets every pfn from {@code from} to the end to {@link #VALUE_NONE}. */
    void clearFrom(long from) {
        int i = (int) ((from - start) >> Pte.PAGE_SHIFT);
        if (i >= 0 && i < pfns.length) {
            Arrays.fill(pfns, i, pfns.length, VALUE_NONE);
        }
    }

    @Override
    public String toString() {
        return name + " [" + Long.toHexString(start) + ", " + Long.toHexString(end) + ") " + state;
    }
}
