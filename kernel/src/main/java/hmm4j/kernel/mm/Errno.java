package hmm4j.kernel.mm;

/** The kernel error numbers the model returns (negated, as the kernel returns them). */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    public static final int EOVERFLOW = 75;
    public static final int EOPNOTSUPP = 95;
    // The other common values of include/uapi/asm-generic/errno-base.h and errno.h.
    public static final int ESRCH = 3;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int ECHILD = 10;
    /** {@code EWOULDBLOCK} is {@code EAGAIN}. */
    public static final int EWOULDBLOCK = EAGAIN;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int EROFS = 30;
    public static final int EPIPE = 32;
    public static final int ERANGE = 34;
    public static final int EDEADLK = 35;
    public static final int ENOSYS = 38;
    public static final int ENODATA = 61;
    public static final int ECONNRESET = 104;
    public static final int ETIMEDOUT = 110;
    public static final int ECANCELED = 125;
    public static final int EHWPOISON = 133;
    /** {@code EIOCBQUEUED} (include/linux/errno.h, kernel-internal): an AIO request was queued and completes later. */
    public static final int EIOCBQUEUED = 529;

    private Errno() {
    }

    /** True if {@code ret} is a negated error number (the kernel's {@code IS_ERR_VALUE}). */
    public static boolean isError(long ret) {
        return ret < 0 && ret >= -4095;
    }
}
