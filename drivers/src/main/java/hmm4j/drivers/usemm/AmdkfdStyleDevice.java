package hmm4j.drivers.usemm;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Completion;

/**
 * The amdkfd pattern: no address-space reference at all; instead the process object
 * registers a classic mmu notifier whose {@code ->release} (which runs first in
 * {@code exit_mmap}, before anything is torn down) tells the worker to stop and waits for
 * it. That is the one exception to the pin rule (rule mm.pin), declared to the model
 * with {@link MmStruct#declareReleaseFence}.
 *
 * <p>With {@code flushInRelease == false} the release only sets the stop flag and returns
 * without waiting: the fence is broken, and a worker caught mid-round touches the address
 * space after release returned.
 *
 * <p>{@code ->release} may run twice (once from exit, once from unregister), so it is
 * idempotent: the worker signals with {@code complete_all}.
 */
public final class AmdkfdStyleDevice extends UseMmDevice {
    private static final int ROUNDS = 2;

    private final MmuNotifier notifier;
    private final Cell<Boolean> stop;
    private final Completion workerDone;
    private final boolean flushInRelease;

    /** Process context: registers the release notifier on {@code current->mm}. */
    public AmdkfdStyleDevice(Kernel kernel, MmStruct mm, long userAddr, int length, boolean flushInRelease) {
        super(kernel, "kfd-process", mm, userAddr, length);
        this.flushInRelease = flushInRelease;
        this.stop = new Cell<>(kernel, "kfd->stop", false);
        this.workerDone = new Completion(kernel, "kfd->worker_done");
        this.notifier = new MmuNotifier("kfd-notifier", new MmuNotifierOps() {
            @Override
            public void release(MmuNotifier subscription, MmStruct on) {
                stop.writeOnce(true);
                if (AmdkfdStyleDevice.this.flushInRelease) {
                    workerDone.waitForCompletion();
                }
            }
        });
        notifier.register(mm);
    }

    /** Declares the worker as fenced by this device's release notifier. */
    public void attachWorker(Task worker) {
        mm.declareReleaseFence(worker, notifier);
    }

    @Override
    public void work() {
        for (int i = 0; i < ROUNDS && !stop.readOnce(); i++) {
            copyOnce();
        }
        workerDone.completeAll();
        notifier.unregister(mm);
        release();
    }
}
