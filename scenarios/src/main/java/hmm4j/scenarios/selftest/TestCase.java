package hmm4j.scenarios.selftest;

import hmm4j.sim.Kernel;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * One {@code TEST_F} of hmm-tests.c: its fixture, name, the feature keys it needs, and its
 * body, or the reason the model cannot run it. A test case runs once per variant of its
 * fixture ({@link Selftest}).
 *
 * @param fixture    {@code hmm} or {@code hmm2}
 * @param name       the C test's name
 * @param features   the feature keys of the catalogue
 * @param body       the test body, run in the test process after the fixture's set-up
 * @param skipReason null for a ported test; else why the model skips it (the body then only skips)
 * @param timeout    the kselftest timeout in seconds: {@link #DEFAULT_TIMEOUT}, or the one a
 *                   {@code TEST_F_TIMEOUT} gives; the run's step and decision bounds scale with it
 */
public record TestCase(Fixture fixture, String name, Set<Feature> features, Body body, String skipReason,
                       int timeout) {
    /** kselftest's default per-test timeout ({@code TEST_TIMEOUT_DEFAULT}), in seconds. */
    public static final int DEFAULT_TIMEOUT = 30;

    /** A test body: the test group's code for one fixture {@code self} and variant. */
    @FunctionalInterface
    interface Body {
        void run(Kernel kernel, FixtureData self, Variant variant) throws Exception;
    }

    /** A body of the {@code hmm} fixture, as a method of its test group {@code G}. */
    @FunctionalInterface
    interface HmmBody<G> {
        void run(G tests, HmmSelf self, Variant variant) throws Exception;
    }

    /** A body of the {@code hmm2} fixture, as a method of its test group {@code G}. */
    @FunctionalInterface
    interface Hmm2Body<G> {
        void run(G tests, Hmm2Self self, Variant variant) throws Exception;
    }

    public TestCase {
        Objects.requireNonNull(fixture, "fixture");
        Objects.requireNonNull(name, "name");
        features = Collections.unmodifiableSet(EnumSet.copyOf(features));
        Objects.requireNonNull(body, "body");
        if (timeout < DEFAULT_TIMEOUT) {
            throw new IllegalArgumentException("a timeout below kselftest's default: " + timeout);
        }
    }

    /** The same test with the timeout of {@code TEST_F_TIMEOUT(fixture, name, seconds)}. */
    TestCase withTimeout(int seconds) {
        return new TestCase(fixture, name, features, body, skipReason, seconds);
    }

    /** A ported {@code TEST_F(hmm, name)} whose body is a method of the group {@code group} makes. */
    static <G> TestCase hmm(String name, Set<Feature> features, Function<Kernel, G> group, HmmBody<G> body) {
        return new TestCase(Fixture.HMM, name, features,
                (kernel, self, variant) -> body.run(group.apply(kernel), (HmmSelf) self, variant), null,
                DEFAULT_TIMEOUT);
    }

    /** A ported {@code TEST_F(hmm2, name)}. */
    static <G> TestCase hmm2(String name, Set<Feature> features, Function<Kernel, G> group, Hmm2Body<G> body) {
        return new TestCase(Fixture.HMM2, name, features,
                (kernel, self, variant) -> body.run(group.apply(kernel), (Hmm2Self) self, variant), null,
                DEFAULT_TIMEOUT);
    }

    /**
     * A test that skips after the fixture's set-up with {@code reason}, as a C test whose
     * kernel feature is missing does ({@code SKIP()}). The catalogue has none now (every test
     * of hmm-tests.c runs); harness and command tests use it to exercise the skip path.
     */
    public static TestCase skipped(Fixture fixture, String name, Set<Feature> features, String reason) {
        Objects.requireNonNull(reason, "reason");
        return new TestCase(fixture, name, features, (kernel, self, variant) -> new Asserts(kernel).skip(reason),
                reason, DEFAULT_TIMEOUT);
    }

    /** True for a test the model runs. */
    public boolean ported() {
        return skipReason == null;
    }

    /** The feature keys as the catalogue writes them, e.g. {@code C, M, 2}. */
    public String featureKeys() {
        return String.join(", ", features.stream().map(Feature::key).toList());
    }
}
