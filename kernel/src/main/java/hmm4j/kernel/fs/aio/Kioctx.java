package hmm4j.kernel.fs.aio;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.AtomicT;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct kioctx}: one AIO context of an mm ({@code io_setup}), with its two
 * reference counts.
 *
 * <p>Overview: {@code ctx->users} counts the context's users: its own initial reference
 * plus a submitter inside {@code io_submit}; {@code ctx->reqs} counts the in-flight iocbs plus
 * one initial reference. {@code kill_ioctx} marks the context dead, clears its slot in
 * {@code mm->ioctx_table} and drops the initial {@code users} reference; when {@code users}
 * reaches 0 ({@code free_ioctx_users}) no iocb can be submitted any more, the active iocbs
 * are cancelled and the initial {@code reqs} reference is dropped; when {@code reqs} reaches 0
 * ({@code free_ioctx_reqs}) no iocb is in flight: the killer's {@code ctx_rq_wait} is
 * completed and the context is freed.
 *
 * <p>Locking: {@code ctx->ctx_lock} guards the active list and the ring; the counters are
 * {@link AtomicT}s (scheduling points); the cancel callbacks run under {@code ctx_lock}.
 *
 * <p>Lifetime: allocated by {@link Aio#ioSetup}, freed by the last {@code reqs} put; an
 * access after that is a use-after-free.
 *
 * <p>Differences from the kernel: {@code percpu_ref} is an atomic counter with an initial
 * reference, and the release callbacks run in the context that drops the last reference
 * (the kernel may run them from an RCU callback); the context is freed directly (the kernel
 * defers it with {@code queue_rcu_work}); there is no ring mapping in user memory, no
 * {@code reqs_available} accounting and no {@code io_destroy}.
 */
public final class Kioctx extends KObject {
    private final MmStruct mm;
    private final AtomicT users;
    private final AtomicT reqs;
    private final AtomicT dead;
    private final SpinLock ctxLock;
    private final List<Kiocb> activeReqs = new ArrayList<>(); // guarded by ctxLock
    private final List<IoEvent> ring = new ArrayList<>(); // guarded by ctxLock
    private volatile CtxRqWait rqWait;
    private volatile int id = -1;

    /** {@code struct ctx_rq_wait}: what {@code exit_aio} waits on: one count per killed context. */
    static final class CtxRqWait {
        final AtomicT count;
        final Completion comp;
        final Task waiter;

        CtxRqWait(Kernel kernel, int nr) {
            this.count = new AtomicT(kernel, "wait.count", nr);
            this.comp = new Completion(kernel, "wait.comp");
            this.waiter = kernel.current();
        }
    }

    Kioctx(Kernel kernel, MmStruct mm, int serial) {
        super(kernel, "kioctx#" + serial);
        this.mm = mm;
        this.users = new AtomicT(kernel, name() + "->users", 1);
        this.reqs = new AtomicT(kernel, name() + "->reqs", 1);
        this.dead = new AtomicT(kernel, name() + "->dead", 0);
        this.ctxLock = new SpinLock(kernel, "kioctx->ctx_lock", name() + "->ctx_lock");
        expectFreedAtQuiescence();
    }

    /** The mm whose {@code io_setup} created the context (the kernel keeps no pointer; {@code kill_ioctx} is given it). */
    MmStruct mm() {
        return mm;
    }

    /** {@code ctx->id}: the slot in {@code mm->ioctx_table}. */
    int id() {
        return id;
    }

    void setId(int id) {
        this.id = id;
    }

    /** {@code ctx->ctx_lock}. */
    SpinLock ctxLock() {
        checkAccess("ctx->ctx_lock");
        return ctxLock;
    }

    /** {@code percpu_ref_tryget_live(&ctx->users)}: false once the context was killed. */
    boolean trygetLive() {
        checkAccess("ctx->users");
        if (dead.read() != 0) {
            return false;
        }
        return users.incNotZero();
    }

    /** {@code percpu_ref_put(&ctx->users)}; the last one runs {@code free_ioctx_users}. */
    void putUsers() {
        checkAccess("ctx->users");
        if (users.decAndTest()) {
            freeIoctxUsers();
        }
    }

    /** {@code percpu_ref_get(&ctx->reqs)}: one more iocb in flight ({@code aio_get_req}). */
    void getReqs() {
        checkAccess("ctx->reqs");
        reqs.inc();
    }

    /** {@code percpu_ref_put(&ctx->reqs)}; the last one runs {@code free_ioctx_reqs}. */
    void putReqs() {
        checkAccess("ctx->reqs");
        if (reqs.decAndTest()) {
            freeIoctxReqs();
        }
    }

    /**
     * {@code kill_ioctx}: marks the context dead (a second kill returns {@code -EINVAL}), clears
     * its slot, records {@code wait} for {@code free_ioctx_reqs} and drops the initial
     * {@code users} reference.
     */
    int killIoctx(KioctxTable table, CtxRqWait wait) {
        table.ioctxLock().lock();
        try {
            if (dead.xchg(1) != 0) {
                return -hmm4j.kernel.mm.Errno.EINVAL;
            }
            table.clear(id);
        } finally {
            table.ioctxLock().unlock();
        }
        rqWait = wait;
        putUsers();
        return 0;
    }

    /** {@code kiocb_set_cancel_fn}'s list insertion. */
    void addActive(Kiocb iocb) {
        SpinLock l = ctxLock();
        l.lock();
        try {
            activeReqs.add(iocb);
            iocb.setOnActiveList(true);
        } finally {
            l.unlock();
        }
    }

    /** {@code aio_remove_iocb}: takes a completing iocb off the active list, if it is still there. */
    void removeActive(Kiocb iocb) {
        SpinLock l = ctxLock();
        l.lock();
        try {
            if (activeReqs.remove(iocb)) {
                iocb.setOnActiveList(false);
            }
        } finally {
            l.unlock();
        }
    }

    /** {@code aio_complete}'s ring write: posts the event under the ring lock. */
    void post(IoEvent event) {
        SpinLock l = ctxLock();
        l.lock();
        try {
            ring.add(event);
        } finally {
            l.unlock();
        }
    }

    /** Takes every posted event (the reaping of {@code io_getevents}). */
    List<IoEvent> reap() {
        SpinLock l = ctxLock();
        l.lock();
        try {
            List<IoEvent> out = List.copyOf(ring);
            ring.clear();
            return out;
        } finally {
            l.unlock();
        }
    }

    /**
     * {@code free_ioctx_users}: no iocb can be submitted any more; cancels every active iocb
     * under {@code ctx_lock} (each cancel callback asks its driver to finish early), then
     * drops the initial {@code reqs} reference.
     */
    private void freeIoctxUsers() {
        SpinLock l = ctxLock();
        l.lock();
        try {
            while (!activeReqs.isEmpty()) {
                Kiocb req = activeReqs.get(0);
                kernel().mark(Aio.KILL_CANCELLED_ACTIVE);
                req.kiCancel();
                activeReqs.remove(0);
                req.setOnActiveList(false);
            }
        } finally {
            l.unlock();
        }
        putReqs();
    }

    /**
     * {@code free_ioctx_reqs}: no iocb is in flight; completes the killer's wait when this
     * was its last context, and frees the context.
     */
    private void freeIoctxReqs() {
        CtxRqWait wait = rqWait;
        if (wait != null) {
            if (kernel().current() != wait.waiter) {
                kernel().mark(Aio.KILL_WAITED_FOR_IOCB);
            }
            if (wait.count.decAndTest()) {
                wait.comp.complete();
            }
        }
        kfree();
    }
}
