package hmm4j.scenarios.selftest;

import java.util.Objects;

/**
 * One runnable selftest: a {@link TestCase} with one variant of its fixture, named as
 * kselftest names it, {@code fixture.variant.test} (e.g. {@code hmm.hmm_device_private.anon_read}).
 *
 * @param testCase the test
 * @param variant  one of {@code testCase.fixture().variants()}
 */
public record Selftest(TestCase testCase, Variant variant) {

    public Selftest {
        Objects.requireNonNull(testCase, "testCase");
        if (!testCase.fixture().variants().contains(variant)) {
            throw new IllegalArgumentException(variant + " is not a variant of " + testCase.fixture().id());
        }
    }

    /** {@code fixture.variant.test}, as kselftest prints it. */
    public String name() {
        return testCase.fixture().id() + "." + variant.name() + "." + testCase.name();
    }

    /** {@code fixture.test}, the name of the test over all variants. */
    public String shortName() {
        return testCase.fixture().id() + "." + testCase.name();
    }

    /**
     * True if {@code selector} picks this test: its full name, its short name
     * ({@code fixture.test}, every variant) or its bare test name.
     */
    public boolean matches(String selector) {
        return selector.equals(name()) || selector.equals(shortName()) || selector.equals(testCase.name());
    }
}
