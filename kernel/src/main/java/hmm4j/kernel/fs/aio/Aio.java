package hmm4j.kernel.fs.aio;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The AIO system calls and the teardown of fs/aio.c: {@code io_setup}, {@code io_submit}
 * of one read, {@code io_getevents} (what has completed, without waiting) and
 * {@code exit_aio}.
 *
 * <p>Overview: {@link #exitAio} is called by {@code __mmput} when the last {@code mm_users}
 * reference of an mm is gone, before {@code exit_mmap}. It kills every context of the mm
 * ({@code kill_ioctx}: no new submission, the active iocbs cancelled) and then waits on one
 * {@code ctx_rq_wait} until every context has no iocb in flight. So a driver's worker that
 * finishes an iocb of that mm may use the address space without an {@code mm_users}
 * reference until it completes the iocb: {@code exit_mmap} cannot start before. That is the
 * "external serialization" of the USB gadget f_fs and legacy inode AIO workers in Linus
 * Torvalds' {@code use_mm} mail (seed 003); {@link Kiocb} is the model's
 * {@link hmm4j.kernel.mm.TeardownBarrier} for it.
 *
 * <p>{@link TeardownOrder#MMAP_FIRST} is a counterfactual kernel, for the catalogue: its
 * {@code __mmput} runs {@code exit_aio} after {@code exit_mmap}, so that nothing holds the
 * address space for a worker any more; the kernel's order is {@link TeardownOrder#AIO_FIRST}.
 *
 * <p>Differences from the kernel: one iocb per {@code io_submit}, reads only; no AIO ring in
 * user memory, {@code io_getevents} never waits, no {@code io_cancel} or {@code io_destroy},
 * no {@code aio_max_nr} limit.
 */
public final class Aio {
    /** Coverage mark: killing a context cancelled an iocb that was still active. */
    public static final Mark KILL_CANCELLED_ACTIVE = Mark.of("aio.kill.cancelled-active",
            "Killing an AIO context (free_ioctx_users) cancelled an iocb still on its active list");
    /** Coverage mark: a killed context's last in-flight iocb completed in another task, after the kill. */
    public static final Mark KILL_WAITED_FOR_IOCB = Mark.of("aio.kill.waited-for-iocb",
            "A killed AIO context still had an iocb in flight: its killer (exit_aio) waited until another task "
                    + "completed it");

    /** When {@code __mmput} runs {@code exit_aio}. */
    public enum TeardownOrder {
        /** The kernel's: {@code exit_aio}, then {@code exit_mmap}. */
        AIO_FIRST,
        /** A counterfactual kernel: {@code exit_mmap}, then {@code exit_aio}. */
        MMAP_FIRST
    }

    /** Per-kernel AIO state: the teardown order and the numbering of contexts and iocbs. */
    private static final class State {
        volatile TeardownOrder order = TeardownOrder.AIO_FIRST;
        final AtomicInteger contexts = new AtomicInteger();
        final AtomicInteger iocbs = new AtomicInteger();
    }

    private Aio() {
    }

    private static State state(Kernel kernel) {
        return kernel.component(State.class, State::new);
    }

    /** The teardown order of {@code kernel} (the kernel's, unless set otherwise). */
    public static TeardownOrder teardownOrder(Kernel kernel) {
        return state(kernel).order;
    }

    /** Sets the teardown order of {@code kernel}: set-up code of a scenario, before any task runs. */
    public static void setTeardownOrder(Kernel kernel, TeardownOrder order) {
        state(kernel).order = order;
    }

    /**
     * {@code io_setup} ({@code ioctx_alloc}, {@code ioctx_add_table}): a new AIO context of
     * {@code mm}, the calling task's mm, put in the first free slot of {@code mm->ioctx_table}.
     */
    public static Kioctx ioSetup(MmStruct mm) {
        Kernel k = mm.kernel();
        Kioctx ctx = new Kioctx(k, mm, state(k).contexts.incrementAndGet());
        KioctxTable table;
        synchronized (mm) {
            table = mm.ioctxTable();
            if (table == null) {
                table = new KioctxTable(k, mm.name());
                mm.setIoctxTable(table);
            }
        }
        table.ioctxLock().lock();
        try {
            ctx.setId(table.add(ctx));
        } finally {
            table.ioctxLock().unlock();
        }
        return ctx;
    }

    /**
     * {@code io_submit} of one {@code IOCB_CMD_PREAD} of {@code length} bytes to
     * {@code userAddr}, read by {@code readIter}: looks the context up ({@code lookup_ioctx}:
     * {@code -EINVAL} once it is killed), allocates the iocb with its {@code reqs} reference
     * ({@code aio_get_req}), calls the file's read; a result other than {@code -EIOCBQUEUED}
     * completes the iocb at once ({@code aio_rw_done}). Returns 1 (one iocb submitted) or a
     * negative errno.
     */
    public static int ioSubmit(Kioctx ctx, long data, ReadIter readIter, long userAddr, int length) {
        if (!lookupIoctx(ctx)) {
            return -Errno.EINVAL;
        }
        try {
            ctx.getReqs();
            Kiocb req = new Kiocb(ctx.kernel(), ctx, data, state(ctx.kernel()).iocbs.incrementAndGet());
            long ret = readIter.readIter(req, userAddr, length);
            if (ret != -Errno.EIOCBQUEUED) {
                req.kiComplete(ret);
            }
            req.iocbPut();
            return 1;
        } finally {
            ctx.putUsers();
        }
    }

    /** {@code io_getevents} with {@code min_nr == 0}: the events posted so far, or empty; never waits. */
    public static List<IoEvent> ioGetevents(Kioctx ctx) {
        if (!lookupIoctx(ctx)) {
            return List.of();
        }
        try {
            return ctx.reap();
        } finally {
            ctx.putUsers();
        }
    }

    /**
     * {@code lookup_ioctx}: finds {@code ctx} in the calling task's table under
     * {@code mm->ioctx_lock} (by identity, without touching a context that is gone) and takes
     * a {@code users} reference; false for a killed context.
     */
    private static boolean lookupIoctx(Kioctx ctx) {
        MmStruct mm = MmStruct.of(ctx.kernel().current());
        KioctxTable table = mm == null ? null : mm.ioctxTable();
        if (table == null) {
            return false;
        }
        table.ioctxLock().lock();
        try {
            return table.holds(ctx, ctx.id()) && ctx.trygetLive();
        } finally {
            table.ioctxLock().unlock();
        }
    }

    /**
     * {@code exit_aio}: the last user of {@code mm} is gone. Kills every context in
     * {@code mm->ioctx_table} with one shared {@code ctx_rq_wait}, waits until none has an
     * iocb in flight (a completion, so the explorer sees the wait and what ends it), then
     * clears the table. Returns at once for an mm that never called {@code io_setup}.
     */
    public static void exitAio(MmStruct mm) {
        KioctxTable table = mm.ioctxTable();
        if (table == null) {
            return;
        }
        mm.kernel().note("exit_aio");
        int nr = table.nr();
        Kioctx.CtxRqWait wait = new Kioctx.CtxRqWait(mm.kernel(), nr);
        int skipped = 0;
        for (int i = 0; i < nr; i++) {
            Kioctx ctx = table.get(i);
            if (ctx == null) {
                skipped++;
                continue;
            }
            ctx.killIoctx(table, wait);
        }
        if (wait.count.addReturn(-skipped) != 0) {
            wait.comp.waitForCompletion();
        }
        mm.setIoctxTable(null);
    }
}
