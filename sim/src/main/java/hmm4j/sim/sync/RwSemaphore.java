package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import hmm4j.sim.Op;
import hmm4j.sim.SyncObserver;
import hmm4j.sim.Task;
import hmm4j.sim.rule.SimRules;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code struct rw_semaphore}, the type of the mmap lock: many readers or one writer.
 *
 * <p>Overview: like the kernel's rwsem it is writer-preferring in the way that matters for
 * deadlocks: once a writer waits, new readers (including {@code down_read_trylock}) queue
 * behind it, so a task that takes the read side twice can deadlock against a waiting
 * writer. Readers are tracked per holder so that {@code up_read} by a non-holder and
 * {@code mmap_assert_locked} can be checked without lockdep.
 *
 * <p>Locking: the state below is guarded by {@code this}; the monitor is only held for a
 * few field updates, never across a block.
 */
@HiddenFromSites
public final class RwSemaphore extends AbstractLock {
    private static final Op.Kind DOWN_READ = new Op.Kind("down_read", Op.Access.WRITE);
    private static final Op.Kind DOWN_READ_TRYLOCK = new Op.Kind("down_read_trylock", Op.Access.WRITE);
    private static final Op.Kind DOWN_WRITE = new Op.Kind("down_write", Op.Access.WRITE);
    private static final Op.Kind DOWN_READ_KILLABLE = new Op.Kind("down_read_killable", Op.Access.WRITE);
    private static final Op.Kind DOWN_WRITE_KILLABLE = new Op.Kind("down_write_killable", Op.Access.WRITE);
    private static final Op.Kind DOWN_WRITE_TRYLOCK = new Op.Kind("down_write_trylock", Op.Access.WRITE);
    private static final Op.Kind UP_READ = new Op.Kind("up_read", Op.Access.WRITE);
    private static final Op.Kind UP_WRITE = new Op.Kind("up_write", Op.Access.WRITE);
    private static final Op.Kind DOWNGRADE_WRITE = new Op.Kind("downgrade_write", Op.Access.WRITE);

    private Object writer;
    private int writersWaiting;
    private final Map<Object, Integer> readers = new HashMap<>();
    private int readerCount;
    private final Op downReadOp;
    private final Op downReadTrylockOp;
    private final Op downWriteOp;
    private final Op downWriteTrylockOp;
    private final Op downReadKillableOp;
    private final Op downWriteKillableOp;
    private final Op upReadOp;
    private final Op upWriteOp;
    private final Op downgradeWriteOp;

    public RwSemaphore(Kernel kernel, String name) {
        this(kernel, name, name);
    }

    /** @param className the lockdep class shared by all rwsems initialised alike (e.g. "mm->mmap_lock") */
    public RwSemaphore(Kernel kernel, String className, String name) {
        super(kernel, className, name);
        this.downReadOp = Op.of(DOWN_READ, target);
        this.downReadTrylockOp = Op.of(DOWN_READ_TRYLOCK, target);
        this.downWriteOp = Op.of(DOWN_WRITE, target);
        this.downWriteTrylockOp = Op.of(DOWN_WRITE_TRYLOCK, target);
        this.downReadKillableOp = Op.of(DOWN_READ_KILLABLE, target);
        this.downWriteKillableOp = Op.of(DOWN_WRITE_KILLABLE, target);
        this.upReadOp = Op.of(UP_READ, target);
        this.upWriteOp = Op.of(UP_WRITE, target);
        this.downgradeWriteOp = Op.of(DOWNGRADE_WRITE, target);
    }

    @Override
    public boolean spinning() {
        return false;
    }

    private synchronized boolean tryRead(Object me) {
        if (writer != null || writersWaiting > 0) {
            return false;
        }
        readers.merge(me, 1, Integer::sum);
        readerCount++;
        return true;
    }

    private synchronized boolean tryWrite(Object me) {
        if (writer != null || readerCount > 0) {
            return false;
        }
        writer = me;
        return true;
    }

    private synchronized String describeHolders() {
        if (writer != null) return "held for write by " + holderName(writer);
        if (readerCount > 0) {
            return "held for read by " + String.join(", ",
                    readers.keySet().stream().map(AbstractLock::holderName).sorted().toList());
        }
        return writersWaiting > 0 ? "queued behind a waiting writer" : "free";
    }

    /** Why a reader waits: a writer holds it, or readers hold it and a writer is queued first. */
    private synchronized String describeForReader() {
        if (writer == null && readerCount > 0 && writersWaiting > 0) {
            return describeHolders() + ", queued behind a waiting writer";
        }
        return describeHolders();
    }

    /** {@code down_read}: may sleep. */
    public void downRead() {
        Task t = task();
        observer().mightSleep(t, downReadOp.label());
        kernel.point(downReadOp);
        observer().acquire(t, this, LockMode.SHARED, false);
        Object me = holder();
        if (!tryRead(me)) {
            awaitAcquire(downReadOp, () -> tryRead(me), this::describeForReader);
        }
    }

    /** {@code down_read_trylock}: true if taken. */
    public boolean downReadTrylock() {
        kernel.point(downReadTrylockOp);
        if (!tryRead(holder())) {
            return false;
        }
        observer().acquire(task(), this, LockMode.SHARED, true);
        return true;
    }

    /** {@code down_write}: may sleep. */
    public void downWrite() {
        Task t = task();
        observer().mightSleep(t, downWriteOp.label());
        kernel.point(downWriteOp);
        observer().acquire(t, this, LockMode.EXCLUSIVE, false);
        Object me = holder();
        synchronized (this) {
            writersWaiting++;
        }
        try {
            awaitAcquire(downWriteOp, () -> {
                boolean ok = tryWrite(me);
                if (ok) {
                    synchronized (this) {
                        writersWaiting--;
                    }
                }
                return ok;
            }, this::describeHolders);
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                if (writer != me) {
                    writersWaiting--;
                }
            }
            throw e;
        }
    }

    /**
     * {@code down_read_killable}: as {@link #downRead}, but a caller that would sleep, or
     * sleeps, while {@code fatal} holds gives up without the lock. {@code fatal} is the
     * caller's {@code fatal_signal_pending}; whoever makes it true calls {@link #wakeWaiters}
     * so that a sleeper re-checks it ({@code signal_wake_up} of a {@code TASK_KILLABLE} task).
     * May sleep.
     *
     * @return true with the lock held for read, false without it (the caller's {@code -EINTR})
     */
    public boolean downReadKillable(BooleanSupplier fatal) {
        Task t = task();
        observer().mightSleep(t, downReadKillableOp.label());
        kernel.point(downReadKillableOp);
        observer().acquire(t, this, LockMode.SHARED, false);
        Object me = holder();
        boolean[] taken = new boolean[1];
        awaitAcquire(downReadKillableOp, () -> (taken[0] = tryRead(me)) || fatal.getAsBoolean(), this::describeForReader);
        if (!taken[0]) {
            observer().release(t, this);
        }
        return taken[0];
    }

    /**
     * {@code down_write_killable}: as {@link #downWrite}, giving up as
     * {@link #downReadKillable} does; a writer that gives up stops queueing readers behind it
     * and wakes them. May sleep.
     *
     * @return true with the lock held for write, false without it (the caller's {@code -EINTR})
     */
    public boolean downWriteKillable(BooleanSupplier fatal) {
        Task t = task();
        observer().mightSleep(t, downWriteKillableOp.label());
        kernel.point(downWriteKillableOp);
        observer().acquire(t, this, LockMode.EXCLUSIVE, false);
        Object me = holder();
        boolean[] taken = new boolean[1];
        synchronized (this) {
            writersWaiting++;
        }
        try {
            awaitAcquire(downWriteKillableOp, () -> (taken[0] = tryWrite(me)) || fatal.getAsBoolean(), this::describeHolders);
        } finally {
            synchronized (this) {
                writersWaiting--;
            }
        }
        if (!taken[0]) {
            observer().release(t, this);
            channel.wakeAll();
        }
        return taken[0];
    }

    /** Makes every task sleeping for this lock re-check its condition (a killable sleeper's signal). */
    public void wakeWaiters() {
        channel.wakeAll();
    }

    /**
     * {@code might_lock}: tells lockdep that the caller could take this lock for write here
     * (an acquisition and release of its lockdep map only). No state changes, never blocks,
     * not a scheduling point; costs nothing when no checker observes the kernel.
     */
    public void mightLock() {
        SyncObserver o = observer();
        if (o != SyncObserver.NONE) {
            Task t = task();
            o.acquire(t, this, LockMode.EXCLUSIVE, false);
            o.release(t, this);
        }
    }

    /** {@code down_write_trylock}: true if taken. */
    public boolean downWriteTrylock() {
        kernel.point(downWriteTrylockOp);
        if (!tryWrite(holder())) {
            return false;
        }
        observer().acquire(task(), this, LockMode.EXCLUSIVE, true);
        return true;
    }

    /** {@code up_read}. */
    public void upRead() {
        kernel.point(upReadOp);
        Object me = holder();
        synchronized (this) {
            Integer n = readers.get(me);
            if (n == null) {
                violation(SimRules.UNLOCK_BY_HOLDER, "up_read of a rw_semaphore not held for read", name() + " " + describeHolders()
                        + "; released by " + holderName(me));
                return;
            }
            if (n == 1) readers.remove(me); else readers.put(me, n - 1);
            readerCount--;
        }
        observer().release(task(), this);
        channel.wakeAll();
    }

    /** {@code up_write}. */
    public void upWrite() {
        kernel.point(upWriteOp);
        Object me = holder();
        synchronized (this) {
            if (writer != me) {
                violation(SimRules.UNLOCK_BY_HOLDER, "up_write of a rw_semaphore not held for write", name() + " " + describeHolders()
                        + "; released by " + holderName(me));
                return;
            }
            writer = null;
        }
        observer().release(task(), this);
        channel.wakeAll();
    }

    /** {@code downgrade_write}: the writer becomes a reader without releasing. */
    public void downgradeWrite() {
        kernel.point(downgradeWriteOp);
        Object me = holder();
        synchronized (this) {
            if (writer != me) {
                violation(SimRules.UNLOCK_BY_HOLDER, "downgrade_write of a rw_semaphore not held for write", name() + " " + describeHolders());
                return;
            }
            writer = null;
            readers.merge(me, 1, Integer::sum);
            readerCount++;
        }
        observer().changeMode(task(), this, LockMode.SHARED);
        channel.wakeAll();
    }

    /** {@code rwsem_is_locked}. */
    public synchronized boolean isLocked() {
        return writer != null || readerCount > 0;
    }

    /** True if some task holds it for write (no scheduling point: lockless checks such as {@code vma_start_read}'s). */
    public synchronized boolean isWriteLocked() {
        return writer != null;
    }

    /** True if the calling task holds it for write. */
    public synchronized boolean heldForWriteByCurrent() {
        return writer == holder();
    }

    /** True if the calling task holds it in either mode. */
    public synchronized boolean heldByCurrent() {
        Object me = holder();
        return writer == me || readers.containsKey(me);
    }

    /** {@code lockdep_assert_held}: read or write, by the calling task. */
    public void assertHeld(String assertion) {
        if (!heldByCurrent()) {
            violation(SimRules.ASSERT_HELD, assertion, name() + " not held by " + holderName(holder()) + " (" + describeHolders() + ")");
        }
    }

    /** {@code lockdep_assert_held_write}: write, by the calling task. */
    public void assertHeldWrite(String assertion) {
        if (!heldForWriteByCurrent()) {
            violation(SimRules.ASSERT_HELD, assertion, name() + " not held for write by " + holderName(holder())
                    + " (" + describeHolders() + ")");
        }
    }
}
