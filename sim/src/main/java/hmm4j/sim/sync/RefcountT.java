package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code refcount_t}: a saturating reference count. An increment from 0, an overflow or an
 * underflow is reported as a refcount error (the kernel WARNs) and the counter saturates at
 * {@link #SATURATED}, where it stays: the object then leaks instead of being freed twice. An
 * underflow cites the put that took the count to 0 before (its site is kept by the put that
 * returns true from {@link #decAndTest}).
 */
@HiddenFromSites
public final class RefcountT {
    private static final Op.Kind REFCOUNT_READ = new Op.Kind("refcount_read", Op.Access.READ);
    private static final Op.Kind REFCOUNT_SET = new Op.Kind("refcount_set", Op.Access.WRITE);
    private static final Op.Kind REFCOUNT_ADD = new Op.Kind("refcount_add", Op.Access.WRITE);
    private static final Op.Kind REFCOUNT_INC_NOT_ZERO = new Op.Kind("refcount_inc_not_zero", Op.Access.WRITE);
    private static final Op.Kind REFCOUNT_DEC_AND_TEST = new Op.Kind("refcount_dec_and_test", Op.Access.WRITE);
    private static final Op.Kind REFCOUNT_DEC = new Op.Kind("refcount_dec", Op.Access.WRITE);

    /** {@code REFCOUNT_SATURATED}: {@code INT_MIN / 2}. */
    public static final int SATURATED = Integer.MIN_VALUE / 2;

    private final Kernel kernel;
    private final String name;
    /** This object as the target of its operations, which it builds once. */
    private final Op.Target target;
    private final Op refcountReadOp;
    private final Op refcountSetOp;
    private final Op refcountAddOp;
    private final Op refcountIncNotZeroOp;
    private final Op refcountDecAndTestOp;
    private final Op refcountDecOp;
    private final AtomicInteger value;
    /** Where the count last reached 0 (the first put of a double put); null until it does. */
    private volatile Site zeroSite;

    public RefcountT(Kernel kernel, String name, int initial) {
        this.kernel = kernel;
        this.name = name;
        this.target = kernel.newTarget(name);
        this.refcountReadOp = Op.of(REFCOUNT_READ, target);
        this.refcountSetOp = Op.of(REFCOUNT_SET, target);
        this.refcountAddOp = Op.of(REFCOUNT_ADD, target);
        this.refcountIncNotZeroOp = Op.of(REFCOUNT_INC_NOT_ZERO, target);
        this.refcountDecAndTestOp = Op.of(REFCOUNT_DEC_AND_TEST, target);
        this.refcountDecOp = Op.of(REFCOUNT_DEC, target);
        this.value = new AtomicInteger(initial);
    }

    private void warn(RefcountProblem problem, String detail) {
        value.set(SATURATED);
        kernel.report(new Failure.RefcountError(name, problem, detail, kernel.site()));
    }

    /** {@code refcount_read}. */
    public int read() {
        kernel.point(refcountReadOp);
        return value.get();
    }

    /** {@code refcount_set}. */
    public void set(int v) {
        kernel.point(refcountSetOp);
        value.set(v);
    }

    /** {@code refcount_inc}: the caller must already hold a reference. */
    public void inc() {
        add(1);
    }

    /** {@code refcount_add}. */
    public void add(int n) {
        kernel.point(refcountAddOp);
        int old = value.getAndAdd(n);
        if (old == SATURATED || old < 0) {
            value.set(SATURATED);
        } else if (old == 0) {
            warn(RefcountProblem.ADDITION_ON_ZERO, "refcount_inc on " + name + " with value 0" + reachedZero());
        } else if (old + n < 0) {
            warn(RefcountProblem.SATURATED, "refcount overflow on " + name);
        }
    }

    /** {@code refcount_inc_not_zero}: false (and no change) if the count is 0. */
    public boolean incNotZero() {
        kernel.point(refcountIncNotZeroOp);
        int v;
        do {
            v = value.get();
            if (v == 0) {
                return false;
            }
            if (v < 0) {
                return true;
            }
        } while (!value.compareAndSet(v, v + 1));
        if (v + 1 < 0) {
            warn(RefcountProblem.SATURATED, "refcount overflow on " + name);
        }
        return true;
    }

    /** {@code refcount_dec_and_test}: true when this put dropped the last reference. */
    public boolean decAndTest() {
        return subAndTest(1);
    }

    /** {@code refcount_sub_and_test}. */
    public boolean subAndTest(int n) {
        kernel.point(refcountDecAndTestOp);
        int old = value.getAndAdd(-n);
        if (old == SATURATED || old < 0) {
            value.set(SATURATED);
            return false;
        }
        if (old == n) {
            zeroSite = kernel.site();
            return true;
        }
        if (old < n) {
            warn(RefcountProblem.UNDERFLOW, "refcount_dec_and_test on " + name + " with value " + old + reachedZero());
        }
        return false;
    }

    /** {@code refcount_dec}: must not drop the last reference (that would leak). */
    public void dec() {
        kernel.point(refcountDecOp);
        int old = value.getAndDecrement();
        if (old == SATURATED || old < 0) {
            value.set(SATURATED);
        } else if (old <= 1) {
            warn(old == 1 ? RefcountProblem.SATURATED : RefcountProblem.UNDERFLOW,
                    "refcount_dec on " + name + " with value " + old
                            + (old == 1 ? " (decrement hit 0; leaking memory)" : reachedZero()));
        }
    }

    /** Where the count reached 0 before, for an underflow report: the put this one repeats. */
    private String reachedZero() {
        Site s = zeroSite;
        return s == null ? "" : "; the count reached 0 at " + s;
    }

    /** The value without a scheduling point, for checkers and reports only. */
    public int peek() {
        return value.get();
    }

    @Override
    public String toString() {
        return name + "=" + value.get();
    }
}
