package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;

/**
 * A shared variable accessed with {@code READ_ONCE}/{@code WRITE_ONCE}: each access is a
 * scheduling point, so the explorer can interleave other tasks between them.
 *
 * @param <T> the value type
 */
@HiddenFromSites
public final class Cell<T> {
    private final Kernel kernel;
    private final String name;
    private final PointNames points;
    private volatile T value;

    public Cell(Kernel kernel, String name, T initial) {
        this.kernel = kernel;
        this.name = name;
        this.points = new PointNames(name);
        this.value = initial;
    }

    /** {@code READ_ONCE}. */
    public T readOnce() {
        kernel.point(points.of("READ_ONCE"));
        return value;
    }

    /** {@code WRITE_ONCE}. */
    public void writeOnce(T v) {
        kernel.point(points.of("WRITE_ONCE"));
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
