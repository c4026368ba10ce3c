/**
 * Linux native AIO ({@code fs/aio.c}, {@code include/linux/aio.h}), as much of it as the
 * {@code use_mm} argument of seed 003 rests on: an AIO context per mm
 * ({@code struct kioctx} in {@code mm->ioctx_table}), {@code io_setup}, {@code io_submit} of
 * one iocb whose file operation may queue it ({@code -EIOCBQUEUED}) and complete it later
 * from another context ({@code ki_complete}), cancellation through
 * {@code kiocb_set_cancel_fn}, and {@code exit_aio}, which the last {@code mmput} runs
 * before {@code exit_mmap}: it kills every context, cancels the active iocbs and waits until
 * every in-flight iocb has completed. That wait is what makes the USB gadget f_fs copy
 * worker's {@code kthread_use_mm} without {@code mmget} correct.
 */
package hmm4j.kernel.fs.aio;
