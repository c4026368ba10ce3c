package hmm4j.kernel.fs.aio;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ExitPhase;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.TeardownBarrier;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.AtomicT;

/**
 * {@code struct aio_kiocb} with its embedded {@code struct kiocb}: one submitted iocb, from
 * {@code io_submit} until its completion is posted.
 *
 * <p>Overview: the iocb holds a {@code ctx->reqs} reference of its context while it is in
 * flight, and {@code ki_refcnt} starts at 2: one for the submit path, one for the
 * completion; whichever of {@code io_submit}'s put and {@link #kiComplete} comes last posts
 * the {@link IoEvent}, drops the {@code reqs} reference ({@code iocb_destroy}) and frees the
 * iocb. A driver that queued the request may set a cancel callback
 * ({@link #kiocbSetCancelFn}), which puts the iocb on the context's active list until it
 * completes.
 *
 * <p>The iocb is also a {@link TeardownBarrier}: until {@link #kiComplete} is called it holds a
 * {@code reqs} reference, so {@code exit_aio} (run by {@code __mmput} before
 * {@code exit_mmap}) cannot return, and the address space is intact. A worker that finishes
 * the request declares that with {@link #declareTeardownBarrier}.
 *
 * <p>Locking: {@code ki_refcnt} is an {@link AtomicT}; the active list is the context's,
 * under {@code ctx_lock}. Lifetime: freed by the last {@code ki_refcnt} put.
 */
public final class Kiocb extends KObject implements TeardownBarrier {
    private final Kioctx ctx;
    private final MmStruct mm;
    private final long data;
    private final AtomicT kiRefcnt;
    private volatile KiocbCancelFn kiCancel;
    private volatile boolean onActiveList; // guarded by ctx_lock
    private volatile boolean completed;
    private volatile long res;

    Kiocb(Kernel kernel, Kioctx ctx, long data, int serial) {
        super(kernel, "iocb#" + serial);
        this.ctx = ctx;
        this.mm = ctx.mm();
        this.data = data;
        this.kiRefcnt = new AtomicT(kernel, name() + "->ki_refcnt", 2);
        expectFreedAtQuiescence();
    }

    /** {@code iocb->ki_res.data}: the submitter's {@code aio_data}. */
    public long data() {
        checkAccess("iocb->ki_res.data");
        return data;
    }

    /**
     * {@code kiocb_set_cancel_fn}: puts the iocb on its context's active list with
     * {@code cancel}, so that killing the context cancels it. Called by a driver that queued
     * the request. A second call is the kernel's {@code WARN_ON_ONCE} and changes nothing.
     */
    public void kiocbSetCancelFn(KiocbCancelFn cancel) {
        checkAccess("kiocb_set_cancel_fn");
        if (onActiveList) {
            kernel().report(new Failure.InvariantViolation(KernelRules.KIOCB_CANCEL_FN_TWICE,
                    "WARN_ON_ONCE(!list_empty(&req->ki_list)): kiocb_set_cancel_fn(" + name() + ") called twice",
                    kernel().site()));
            return;
        }
        kiCancel = cancel;
        ctx.addActive(this);
    }

    /** Runs the cancel callback; the caller ({@code free_ioctx_users}) holds {@code ctx_lock}. */
    void kiCancel() {
        KiocbCancelFn fn = kiCancel;
        if (fn != null) {
            fn.cancel(this);
        }
    }

    void setOnActiveList(boolean on) {
        onActiveList = on;
    }

    /**
     * {@code ki_complete} of an AIO read ({@code aio_complete_rw}): the request is done with
     * {@code res} (bytes or a negative errno). Takes the iocb off the active list, then
     * drops the completion's {@code ki_refcnt}. The caller must not touch the iocb, its
     * context or the submitter's mm afterwards: the completion may be the last thing
     * {@code exit_aio} waits for. A second completion is a use-after-free or a refcount error.
     */
    public void kiComplete(long res) {
        checkAccess("ki_complete");
        kernel().note("ki_complete");
        completed = true;
        if (onActiveList) {
            ctx.removeActive(this);
        }
        this.res = res;
        iocbPut();
    }

    /** {@code iocb_put}: the last reference posts the event and destroys the iocb. */
    void iocbPut() {
        checkAccess("iocb_put");
        if (kiRefcnt.decAndTest()) {
            ctx.post(new IoEvent(data, res));
            ctx.putReqs();
            kfree();
        }
    }

    /**
     * Declares that {@code worker} (the context that will call {@link #kiComplete}) touches
     * the submitter's address space only before completing this iocb, so that its accesses
     * are covered by the iocb's {@code reqs} reference, which {@code exit_aio} waits for
     * ({@link MmStruct#declareTeardownBarrier}).
     */
    public void declareTeardownBarrier(Task worker) {
        checkAccess("declare teardown barrier");
        mm.declareTeardownBarrier(worker, this);
    }

    /**
     * True while the iocb is in flight (not yet completed) and {@code __mmput} of its mm has not
     * gone past {@code exit_aio}: {@code exit_mmap} cannot have started. Reads no state of a
     * possibly freed object through its accessors and takes no scheduling point.
     */
    @Override
    public boolean holdsBack(MmStruct on) {
        if (on != mm || completed) {
            return false;
        }
        ExitPhase phase = on.exitPhase();
        return phase == ExitPhase.NONE || phase == ExitPhase.EXIT_AIO;
    }
}
