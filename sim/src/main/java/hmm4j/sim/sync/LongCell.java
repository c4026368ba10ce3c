package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;

/** A {@code long} shared variable with {@code READ_ONCE}/{@code WRITE_ONCE} accesses (see {@link Cell}). */
@HiddenFromSites
public final class LongCell {
    private static final Op.Kind READ_ONCE = new Op.Kind("READ_ONCE", Op.Access.READ);
    private static final Op.Kind WRITE_ONCE = new Op.Kind("WRITE_ONCE", Op.Access.WRITE);

    private final Kernel kernel;
    private final String name;
    /** This object as the target of its operations, which it builds once. */
    private final Op.Target target;
    private final Op readOnceOp;
    private final Op writeOnceOp;
    private volatile long value;

    public LongCell(Kernel kernel, String name, long initial) {
        this.kernel = kernel;
        this.name = name;
        this.target = kernel.newTarget(name);
        this.readOnceOp = Op.of(READ_ONCE, target);
        this.writeOnceOp = Op.of(WRITE_ONCE, target);
        this.value = initial;
    }

    /** {@code READ_ONCE}. */
    public long readOnce() {
        kernel.point(readOnceOp);
        return value;
    }

    /** {@code WRITE_ONCE}. */
    public void writeOnce(long v) {
        kernel.point(writeOnceOp);
        value = v;
    }

    /** The value without a scheduling point: for conditions of waits and for checkers. */
    public long peek() {
        return value;
    }

    @Override
    public String toString() {
        return name + "=" + value;
    }
}
