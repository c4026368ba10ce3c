package hmm4j.kernel.fs.aio;

/**
 * {@code kiocb_cancel_fn} (include/linux/aio.h): a driver's cancel callback, set with
 * {@link Kiocb#kiocbSetCancelFn}. Called under {@code ctx->ctx_lock} (a spinlock, interrupts
 * off): it must not sleep. It asks the driver to finish the request early; the iocb is still
 * completed through {@link Kiocb#kiComplete}, by whoever finishes it.
 */
@FunctionalInterface
public interface KiocbCancelFn {
    /** Returns 0 or a negative errno (ignored by {@code free_ioctx_users}, as in the kernel). */
    int cancel(Kiocb kiocb);
}
