package hmm4j.kernel.fs;

/**
 * A reference-counted open file ({@code struct file} with its {@code f_count}) as a descriptor
 * table sees it: {@link #getFile} takes one more reference (a descriptor duplicated by
 * {@code fork} or {@code dup}), {@link #fput} drops one, and the last {@code fput} releases the
 * file ({@code f_op->release}).
 */
public interface FileRef {
    /** {@code get_file}: one more reference; the caller already holds one. */
    void getFile();

    /** {@code fput}: drops one reference; the last one releases the file. May sleep. */
    void fput();

    /**
     * {@code fput} where the release must not run now (a VMA removed under the mmap lock):
     * the kernel defers the last put's {@code __fput} to task work or to the
     * {@code delayed_fput} work. Does not sleep. The default releases at once.
     */
    default void fputDeferred() {
        fput();
    }
}
