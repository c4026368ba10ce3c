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

    private Errno() {
    }

    /** True if {@code ret} is a negated error number (the kernel's {@code IS_ERR_VALUE}). */
    public static boolean isError(long ret) {
        return ret < 0 && ret >= -4095;
    }
}
