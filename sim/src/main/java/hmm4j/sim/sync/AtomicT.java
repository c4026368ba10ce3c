package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import java.util.concurrent.atomic.AtomicInteger;

/** {@code atomic_t}: every operation is one atomic step and one scheduling point. */
@HiddenFromSites
public final class AtomicT {
    private final Kernel kernel;
    private final String name;
    private final AtomicInteger value;

    public AtomicT(Kernel kernel, String name, int initial) {
        this.kernel = kernel;
        this.name = name;
        this.value = new AtomicInteger(initial);
    }

    /** {@code atomic_read}. */
    public int read() {
        kernel.point("atomic_read(" + name + ")");
        return value.get();
    }

    /** {@code atomic_set}. */
    public void set(int v) {
        kernel.point("atomic_set(" + name + ")");
        value.set(v);
    }

    /** {@code atomic_inc}. */
    public void inc() {
        kernel.point("atomic_inc(" + name + ")");
        value.incrementAndGet();
    }

    /** {@code atomic_dec}. */
    public void dec() {
        kernel.point("atomic_dec(" + name + ")");
        value.decrementAndGet();
    }

    /** {@code atomic_add_return}. */
    public int addReturn(int delta) {
        kernel.point("atomic_add_return(" + name + ")");
        return value.addAndGet(delta);
    }

    /** {@code atomic_inc_return}. */
    public int incReturn() {
        kernel.point("atomic_inc_return(" + name + ")");
        return value.incrementAndGet();
    }

    /** {@code atomic_dec_return}. */
    public int decReturn() {
        kernel.point("atomic_dec_return(" + name + ")");
        return value.decrementAndGet();
    }

    /** {@code atomic_dec_and_test}: true when the new value is 0. */
    public boolean decAndTest() {
        kernel.point("atomic_dec_and_test(" + name + ")");
        return value.decrementAndGet() == 0;
    }

    /** {@code atomic_inc_not_zero}: increments unless 0; true if it did. */
    public boolean incNotZero() {
        kernel.point("atomic_inc_not_zero(" + name + ")");
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
        kernel.point("atomic_cmpxchg(" + name + ")");
        return value.compareAndExchange(expected, update);
    }

    /** {@code atomic_xchg}: returns the old value. */
    public int xchg(int update) {
        kernel.point("atomic_xchg(" + name + ")");
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
