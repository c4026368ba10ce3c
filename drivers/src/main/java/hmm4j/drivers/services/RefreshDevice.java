package hmm4j.drivers.services;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.workqueue.WorkStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Mutex;

/**
 * A device object embedding a work that refreshes the device state under the device lock,
 * queued by the device's interrupt path, in two teardown designs.
 *
 * <p>{@link #teardownFlushUnderLock} takes the device lock and then {@code flush_work}s the
 * refresh work: if the work is running it waits for the lock the flusher holds (lockdep
 * sees the cycle between {@code dev->lock} and the work's map even when the timing does not
 * deadlock). {@link #teardown} marks the device dead under the lock, so the interrupt path
 * stops queueing, then {@code cancel_work_sync}s outside the lock and frees the device.
 */
public final class RefreshDevice extends KObject {
    private final Mutex lock;
    private final WorkStruct refreshWork;
    private boolean dead;
    private int refreshes;

    public RefreshDevice(Kernel kernel) {
        super(kernel, "refresh-dev");
        this.lock = new Mutex(kernel, "dev->lock");
        this.refreshWork = new WorkStruct(this, "dev->refresh_work", RefreshDevice::refresh);
    }

    private static void refresh(WorkStruct work) {
        RefreshDevice dev = (RefreshDevice) work.container();
        dev.lock.lock();
        try {
            dev.checkAccess("refresh");
            dev.refreshes++;
        } finally {
            dev.lock.unlock();
        }
    }

    /** The interrupt path: queues a refresh unless the device is being torn down. */
    public void interrupt() {
        lock.lock();
        try {
            checkAccess("interrupt");
            if (!dead) {
                refreshWork.scheduleWork();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The buggy teardown: {@code flush_work} while holding the lock the work takes, then free. */
    public void teardownFlushUnderLock() {
        lock.lock();
        try {
            dead = true;
            refreshWork.flushWork();
        } finally {
            lock.unlock();
        }
        kfree();
    }

    /** The fixed teardown: mark dead under the lock, {@code cancel_work_sync} outside it, free. */
    public void teardown() {
        lock.lock();
        try {
            dead = true;
        } finally {
            lock.unlock();
        }
        refreshWork.cancelWorkSync();
        kfree();
    }

    /** Refreshes done so far. */
    public int refreshes() {
        return refreshes;
    }
}
