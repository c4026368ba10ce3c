package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;

/** A {@code long} shared variable with {@code READ_ONCE}/{@code WRITE_ONCE} accesses (see {@link Cell}). */
@HiddenFromSites
public final class LongCell {
    private final Kernel kernel;
    private final String name;
    private final PointNames points;
    private volatile long value;

    public LongCell(Kernel kernel, String name, long initial) {
        this.kernel = kernel;
        this.name = name;
        this.points = new PointNames(name);
        this.value = initial;
    }

    /** {@code READ_ONCE}. */
    public long readOnce() {
        kernel.point(points.of("READ_ONCE"));
        return value;
    }

    /** {@code WRITE_ONCE}. */
    public void writeOnce(long v) {
        kernel.point(points.of("WRITE_ONCE"));
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
