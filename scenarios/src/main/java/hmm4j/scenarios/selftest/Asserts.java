package hmm4j.scenarios.selftest;

import hmm4j.kernel.mm.Errno;
import hmm4j.scenarios.rules.ScenarioRules;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntUnaryOperator;

/**
 * The {@code ASSERT_*} and {@code SKIP} macros of the kselftest harness, for code running in
 * a task of one selftest's {@link Kernel}. Each assertion names the C assertion it stands
 * for, e.g. {@code assertEq("buffer->cpages", buffer.cpages, "npages", npages)} is
 * {@code ASSERT_EQ(buffer->cpages, npages)}, and on failure says so with the values:
 * {@code ASSERT_EQ(buffer->cpages, npages) failed: buffer->cpages = 512, npages = 1024}.
 *
 * <p>A failed assertion is reported to the kernel as an {@link Failure.InvariantViolation}
 * whose rule is the C assertion followed by {@code failed}; the controlled runtime stops the
 * run there, as kselftest stops a test at its first failed {@code ASSERT}. The failure is
 * also recorded in the test's {@link TestContext}, so that the harness can tell it from a
 * checker's.
 *
 * <p>Must be called from a task of the kernel (a test process, its children or threads).
 */
class Asserts {
    private static final Map<Integer, String> ERRNO_NAMES = Map.ofEntries(
            Map.entry(Errno.EPERM, "EPERM"), Map.entry(Errno.ENOENT, "ENOENT"), Map.entry(Errno.EINTR, "EINTR"),
            Map.entry(Errno.EAGAIN, "EAGAIN"), Map.entry(Errno.ENOMEM, "ENOMEM"), Map.entry(Errno.EACCES, "EACCES"),
            Map.entry(Errno.EFAULT, "EFAULT"), Map.entry(Errno.EBUSY, "EBUSY"), Map.entry(Errno.EINVAL, "EINVAL"),
            Map.entry(Errno.EOVERFLOW, "EOVERFLOW"), Map.entry(Errno.EOPNOTSUPP, "EOPNOTSUPP"));

    /** The machine the test runs on. */
    protected final Kernel kernel;

    protected Asserts(Kernel kernel) {
        this.kernel = Objects.requireNonNull(kernel, "kernel");
    }

    /** {@code ASSERT_EQ(seen, expected)} where {@code expected} is a literal number. */
    final void assertEq(String seen, long seenValue, long expected) {
        assertEq(seen, seenValue, Long.toString(expected), expected);
    }

    /** {@code ASSERT_EQ(seen, expected)} where {@code expected} is an expression. */
    final void assertEq(String seen, long seenValue, String expected, long expectedValue) {
        if (seenValue != expectedValue) {
            fail("ASSERT_EQ(" + seen + ", " + expected + ")", values(seen, seenValue, expected, expectedValue));
        }
    }

    /** {@code ASSERT_NE(seen, other)}. */
    final void assertNe(String seen, long seenValue, String other, long otherValue) {
        if (seenValue == otherValue) {
            fail("ASSERT_NE(" + seen + ", " + other + ")", values(seen, seenValue, other, otherValue));
        }
    }

    /** {@code ASSERT_GE(seen, bound)}. */
    final void assertGe(String seen, long seenValue, String bound, long boundValue) {
        if (seenValue < boundValue) {
            fail("ASSERT_GE(" + seen + ", " + bound + ")", values(seen, seenValue, bound, boundValue));
        }
    }

    /**
     * The C loop {@code for (i = from; i < to; ++i) ASSERT_EQ(ptr[i], expected(i));} over the
     * words {@code ptr} (read from user memory by the caller); names the first index that
     * differs.
     *
     * @param seen     the element as the C test writes it, e.g. {@code "ptr[i]"}
     * @param expected the expected value as the C test writes it, e.g. {@code "i + c"}
     */
    final void assertEach(String seen, String expected, int[] ptr, long from, long to,
                                 IntUnaryOperator expectedValue) {
        for (int i = Math.toIntExact(from); i < to; i++) {
            int want = expectedValue.applyAsInt(i);
            if (ptr[i] != want) {
                fail("ASSERT_EQ(" + seen + ", " + expected + ")", "at i = " + i + ": " + seen + " = " + ptr[i]
                        + ", " + expected + " = " + want);
            }
        }
    }

    /** {@code ASSERT_EQ(m[i], expected)} for an unsigned byte {@code m[i]} of a snapshot. */
    final void assertByte(String seen, byte seenValue, String expected, int expectedValue) {
        int v = seenValue & 0xFF;
        if (v != expectedValue) {
            fail("ASSERT_EQ(" + seen + ", " + expected + ")",
                    seen + " = 0x" + Integer.toHexString(v) + ", " + expected + " = 0x"
                            + Integer.toHexString(expectedValue));
        }
    }

    /**
     * Fails the test: reports {@code assertion} with {@code detail} as the run's failure.
     * Does not return.
     */
    final void fail(String assertion, String detail) {
        Failure f = new Failure.InvariantViolation(ScenarioRules.SELFTEST_ASSERTION, assertion + " failed: " + detail,
                kernel.site());
        TestContext.of(kernel).assertionFailed(f);
        kernel.report(f);
        // Only reached outside a controlled task; the test must still stop here.
        throw new AssertionError(assertion + " failed: " + detail);
    }

    /** kselftest's {@code SKIP(return, reason)}: the test ends here and counts as skipped. */
    final void skip(String reason) {
        TestContext.of(kernel).skipped(reason);
        throw new SkipTest(reason);
    }

    /** {@code -14 (-EFAULT)} for a negated errno the model knows, else the number. */
    static String withErrno(long value) {
        String name = value < 0 && value >= -4095 ? ERRNO_NAMES.get((int) -value) : null;
        return name == null ? Long.toString(value) : value + " (-" + name + ")";
    }

    private static String values(String a, long aValue, String b, long bValue) {
        String left = a + " = " + withErrno(aValue);
        return isLiteral(b) ? left : left + ", " + b + " = " + withErrno(bValue);
    }

    private static boolean isLiteral(String expression) {
        return expression.matches("-?\\d+");
    }
}
