package hmm4j.scenarios.selftest;

/**
 * Thrown by {@link Asserts#skip} to leave a test or its set-up, as kselftest's
 * {@code SKIP(return, reason)} returns; {@link Fixture} catches it inside the test process,
 * so it never reaches the runtime as a failure.
 */
final class SkipTest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SkipTest(String reason) {
        super(reason, null, false, false);
    }
}
