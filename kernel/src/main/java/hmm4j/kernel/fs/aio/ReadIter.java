package hmm4j.kernel.fs.aio;

/**
 * The {@code ->read_iter} of the file an iocb reads ({@code IOCB_CMD_PREAD}), called by
 * {@link Aio#ioSubmit} in the submitter's context with a kiocb that is not synchronous:
 * it either returns the result (bytes read or a negative errno), or queues the request and
 * returns {@code -EIOCBQUEUED}, promising one {@link Kiocb#kiComplete} later.
 */
@FunctionalInterface
public interface ReadIter {
    /** Reads {@code length} bytes to user address {@code userAddr} of the submitter's mm. */
    long readIter(Kiocb kiocb, long userAddr, int length);
}
