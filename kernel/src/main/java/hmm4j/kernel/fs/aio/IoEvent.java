package hmm4j.kernel.fs.aio;

/**
 * {@code struct io_event} (include/uapi/linux/aio_abi.h): the completion of one iocb as
 * {@code io_getevents} returns it.
 *
 * @param data the {@code aio_data} the submitter gave
 * @param res  the result: bytes transferred or a negative errno
 */
public record IoEvent(long data, long res) {
}
