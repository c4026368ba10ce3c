package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import hmm4j.sim.SyncObserver;

/**
 * {@code struct lockdep_map} used as a fake lock: acquiring and releasing it changes no
 * state and never blocks, but lockdep records the dependencies, so that locks taken inside
 * a section it brackets (for instance the {@code invalidate_range_start} callbacks) are
 * checked against locks held around it. Not a scheduling point.
 *
 * <p>{@link #acquire()} is an exclusive acquisition and {@link #acquireRead()} a recursive
 * read ({@link LockMode#RECURSIVE_READ}), as {@code lock_map_acquire} and
 * {@code lock_map_acquire_read} pass {@code read} 0 and 2 to {@code lock_acquire}.
 */
@HiddenFromSites
public final class LockMap extends AbstractLock {

    public LockMap(Kernel kernel, String name) {
        super(kernel, name, name);
    }

    @Override
    public boolean spinning() {
        return false;
    }

    /** {@code lock_map_acquire}. Costs nothing when no checker observes the kernel. */
    public void acquire() {
        SyncObserver o = observer();
        if (o != SyncObserver.NONE) {
            o.acquire(task(), this, LockMode.EXCLUSIVE, false);
        }
    }

    /**
     * {@code lock_acquire} with {@code read == 1}: a non-recursive reader, which orders like
     * a writer in a cycle ({@code dma_fence_begin_signalling} takes its map so).
     */
    public void acquireShared() {
        SyncObserver o = observer();
        if (o != SyncObserver.NONE) {
            o.acquire(task(), this, LockMode.SHARED, false);
        }
    }

    /**
     * {@code lock_map_acquire_try}: an exclusive acquisition by a trylock, which cannot wait and
     * so adds no dependency of its own; what is acquired while it is held depends on it.
     */
    public void acquireTry() {
        SyncObserver o = observer();
        if (o != SyncObserver.NONE) {
            o.acquire(task(), this, LockMode.EXCLUSIVE, true);
        }
    }

    /** {@code lock_map_acquire_read}: a recursive read, which nests with any read of this map. */
    public void acquireRead() {
        SyncObserver o = observer();
        if (o != SyncObserver.NONE) {
            o.acquire(task(), this, LockMode.RECURSIVE_READ, false);
        }
    }

    /** {@code lock_map_release}. */
    public void release() {
        SyncObserver o = observer();
        if (o != SyncObserver.NONE) {
            o.release(task(), this);
        }
    }
}
