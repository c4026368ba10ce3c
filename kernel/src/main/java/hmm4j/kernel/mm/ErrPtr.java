package hmm4j.kernel.mm;

import java.util.Objects;

/**
 * A pointer or an error, as the kernel's {@code ERR_PTR} / {@code IS_ERR} / {@code PTR_ERR}
 * encode it in one word. Functions that return "an object or {@code -ENOMEM}" in the
 * kernel ({@code mmu_notifier_get}, {@code ->alloc_notifier}) return this.
 *
 * @param <T> the pointed-to type
 */
public final class ErrPtr<T> {
    private final T value;
    private final int errno;

    private ErrPtr(T value, int errno) {
        this.value = value;
        this.errno = errno;
    }

    /** A valid pointer (never null: the kernel's NULL is not an ERR_PTR). */
    public static <T> ErrPtr<T> of(T value) {
        return new ErrPtr<>(Objects.requireNonNull(value, "value"), 0);
    }

    /**
     * {@code ERR_PTR(err)}: {@code err} is a negated error number such as {@code -Errno.ENOMEM}.
     *
     * @throws IllegalArgumentException if {@code err} is not a negated error number
     */
    public static <T> ErrPtr<T> err(int err) {
        if (!Errno.isError(err)) {
            throw new IllegalArgumentException("ERR_PTR of a non-error value " + err);
        }
        return new ErrPtr<>(null, err);
    }

    /** {@code IS_ERR}. */
    public boolean isErr() {
        return value == null;
    }

    /** {@code PTR_ERR}: the negated error number, or 0 for a valid pointer. */
    public int ptrErr() {
        return errno;
    }

    /**
     * The pointer.
     *
     * @throws IllegalStateException if this is an error (dereferencing an ERR_PTR)
     */
    public T get() {
        if (value == null) {
            throw new IllegalStateException("dereference of ERR_PTR(" + errno + ")");
        }
        return value;
    }

    @Override
    public String toString() {
        return isErr() ? "ERR_PTR(" + errno + ")" : String.valueOf(value);
    }
}
