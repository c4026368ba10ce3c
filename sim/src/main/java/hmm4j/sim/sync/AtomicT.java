package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import java.util.concurrent.atomic.AtomicInteger;

/** {@code atomic_t}: every operation is one atomic step and one scheduling point. */
@HiddenFromSites
public final class AtomicT {
    private static final Op.Kind ATOMIC_READ = new Op.Kind("atomic_read", Op.Access.READ);
    private static final Op.Kind ATOMIC_SET = new Op.Kind("atomic_set", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_INC = new Op.Kind("atomic_inc", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_DEC = new Op.Kind("atomic_dec", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_ADD_RETURN = new Op.Kind("atomic_add_return", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_INC_RETURN = new Op.Kind("atomic_inc_return", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_DEC_RETURN = new Op.Kind("atomic_dec_return", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_DEC_AND_TEST = new Op.Kind("atomic_dec_and_test", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_INC_NOT_ZERO = new Op.Kind("atomic_inc_not_zero", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_CMPXCHG = new Op.Kind("atomic_cmpxchg", Op.Access.WRITE);
    private static final Op.Kind ATOMIC_XCHG = new Op.Kind("atomic_xchg", Op.Access.WRITE);

    private final Kernel kernel;
    private final String name;
    /** This object as the target of its operations, which it builds once. */
    private final Op.Target target;
    private final Op atomicReadOp;
    private final Op atomicSetOp;
    private final Op atomicIncOp;
    private final Op atomicDecOp;
    private final Op atomicAddReturnOp;
    private final Op atomicIncReturnOp;
    private final Op atomicDecReturnOp;
    private final Op atomicDecAndTestOp;
    private final Op atomicIncNotZeroOp;
    private final Op atomicCmpxchgOp;
    private final Op atomicXchgOp;
    private final AtomicInteger value;

    public AtomicT(Kernel kernel, String name, int initial) {
        this.kernel = kernel;
        this.name = name;
        this.target = kernel.newTarget(name);
        this.atomicReadOp = Op.of(ATOMIC_READ, target);
        this.atomicSetOp = Op.of(ATOMIC_SET, target);
        this.atomicIncOp = Op.of(ATOMIC_INC, target);
        this.atomicDecOp = Op.of(ATOMIC_DEC, target);
        this.atomicAddReturnOp = Op.of(ATOMIC_ADD_RETURN, target);
        this.atomicIncReturnOp = Op.of(ATOMIC_INC_RETURN, target);
        this.atomicDecReturnOp = Op.of(ATOMIC_DEC_RETURN, target);
        this.atomicDecAndTestOp = Op.of(ATOMIC_DEC_AND_TEST, target);
        this.atomicIncNotZeroOp = Op.of(ATOMIC_INC_NOT_ZERO, target);
        this.atomicCmpxchgOp = Op.of(ATOMIC_CMPXCHG, target);
        this.atomicXchgOp = Op.of(ATOMIC_XCHG, target);
        this.value = new AtomicInteger(initial);
    }

    /** {@code atomic_read}. */
    public int read() {
        kernel.point(atomicReadOp);
        return value.get();
    }

    /** {@code atomic_set}. */
    public void set(int v) {
        kernel.point(atomicSetOp);
        value.set(v);
    }

    /** {@code atomic_inc}. */
    public void inc() {
        kernel.point(atomicIncOp);
        value.incrementAndGet();
    }

    /** {@code atomic_dec}. */
    public void dec() {
        kernel.point(atomicDecOp);
        value.decrementAndGet();
    }

    /** {@code atomic_add_return}. */
    public int addReturn(int delta) {
        kernel.point(atomicAddReturnOp);
        return value.addAndGet(delta);
    }

    /** {@code atomic_inc_return}. */
    public int incReturn() {
        kernel.point(atomicIncReturnOp);
        return value.incrementAndGet();
    }

    /** {@code atomic_dec_return}. */
    public int decReturn() {
        kernel.point(atomicDecReturnOp);
        return value.decrementAndGet();
    }

    /** {@code atomic_dec_and_test}: true when the new value is 0. */
    public boolean decAndTest() {
        kernel.point(atomicDecAndTestOp);
        return value.decrementAndGet() == 0;
    }

    /** {@code atomic_inc_not_zero}: increments unless 0; true if it did. */
    public boolean incNotZero() {
        kernel.point(atomicIncNotZeroOp);
        int v;
        do {
            v = value.get();
            if (v == 0) {
                return false;
            }
        } while (!value.compareAndSet(v, v + 1));
        return true;
    }

    /** {@code atomic_cmpxchg}: returns the old value. */
    public int cmpxchg(int expected, int update) {
        kernel.point(atomicCmpxchgOp);
        return value.compareAndExchange(expected, update);
    }

    /** {@code atomic_xchg}: returns the old value. */
    public int xchg(int update) {
        kernel.point(atomicXchgOp);
        return value.getAndSet(update);
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
