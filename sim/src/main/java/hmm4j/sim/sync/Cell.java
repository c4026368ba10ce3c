package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;

/**
 * A shared variable accessed with {@code READ_ONCE}/{@code WRITE_ONCE}: each access is a
 * scheduling point, so the explorer can interleave other tasks between them.
 *
 * @param <T> the value type
 */
@HiddenFromSites
public final class Cell<T> {
    private static final Op.Kind READ_ONCE = new Op.Kind("READ_ONCE", Op.Access.READ);
    private static final Op.Kind WRITE_ONCE = new Op.Kind("WRITE_ONCE", Op.Access.WRITE);

    private final Kernel kernel;
    private final String name;
    /** This object as the target of its operations, which it builds once. */
    private final Op.Target target;
    private final Op readOnceOp;
    private final Op writeOnceOp;
    private volatile T value;

    public Cell(Kernel kernel, String name, T initial) {
        this.kernel = kernel;
        this.name = name;
        this.target = kernel.newTarget(name);
        this.readOnceOp = Op.of(READ_ONCE, target);
        this.writeOnceOp = Op.of(WRITE_ONCE, target);
        this.value = initial;
    }

    /** {@code READ_ONCE}. */
    public T readOnce() {
        kernel.point(readOnceOp);
        return value;
    }

    /** {@code WRITE_ONCE}. */
    public void writeOnce(T v) {
        kernel.point(writeOnceOp);
        value = v;
    }

    /** The value without a scheduling point: for conditions of waits and for checkers. */
    public T peek() {
        return value;
    }

    @Override
    public String toString() {
        return name + "=" + value;
    }
}
