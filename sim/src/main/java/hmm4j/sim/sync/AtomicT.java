package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import java.util.concurrent.atomic.AtomicInteger;

/** {@code atomic_t}: every operation is one atomic step and one scheduling point. */
@HiddenFromSites
public final class AtomicT {
    private final Kernel kernel;
    private final String name;
    private final PointNames points;
    private final AtomicInteger value;

    public AtomicT(Kernel kernel, String name, int initial) {
        this.kernel = kernel;
        this.name = name;
        this.points = new PointNames(name);
        this.value = new AtomicInteger(initial);
    }

    /** {@code atomic_read}. */
    public int read() {
        kernel.point(points.of("atomic_read"));
        return value.get();
    }

    /** {@code atomic_set}. */
    public void set(int v) {
        kernel.point(points.of("atomic_set"));
        value.set(v);
    }

    /** {@code atomic_inc}. */
    public void inc() {
        kernel.point(points.of("atomic_inc"));
        value.incrementAndGet();
    }

    /** {@code atomic_dec}. */
    public void dec() {
        kernel.point(points.of("atomic_dec"));
        value.decrementAndGet();
    }

    /** {@code atomic_add_return}. */
    public int addReturn(int delta) {
        kernel.point(points.of("atomic_add_return"));
        return value.addAndGet(delta);
    }

    /** {@code atomic_inc_return}. */
    public int incReturn() {
        kernel.point(points.of("atomic_inc_return"));
        return value.incrementAndGet();
    }

    /** {@code atomic_dec_return}. */
    public int decReturn() {
        kernel.point(points.of("atomic_dec_return"));
        return value.decrementAndGet();
    }

    /** {@code atomic_dec_and_test}: true when the new value is 0. */
    public boolean decAndTest() {
        kernel.point(points.of("atomic_dec_and_test"));
        return value.decrementAndGet() == 0;
    }

    /** {@code atomic_inc_not_zero}: increments unless 0; true if it did. */
    public boolean incNotZero() {
        kernel.point(points.of("atomic_inc_not_zero"));
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
        kernel.point(points.of("atomic_cmpxchg"));
        return value.compareAndExchange(expected, update);
    }

    /** {@code atomic_xchg}: returns the old value. */
    public int xchg(int update) {
        kernel.point(points.of("atomic_xchg"));
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
