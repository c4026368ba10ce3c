package hmm4j.scenarios.selftest;

import hmm4j.check.Checkers;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.List;

/**
 * The harness: runs one {@link Selftest} the way the kselftest harness runs a {@code TEST_F}
 * in its own process, on a machine of its own.
 *
 * <p>Overview. Each test gets a fresh controlled {@link Kernel} with a fixed seed and the
 * checkers installed ({@link Checkers#install}), the dmirror module loaded
 * ({@link DmirrorModule}: private devices 0 and 1, coherent devices 2 and 3), and one process, {@code hmm-tests}, which runs the
 * fixture's set-up, the test body and the tear-down. The verdict:
 * <ul>
 *   <li>FAIL if the run reported any failure: a failed {@code ASSERT_*} (the run stops there,
 *       as kselftest stops at the first failed assertion), or anything a checker found
 *       (lockdep, the lifetime sanitizer, the model's invariants, a deadlock, a task that
 *       threw, a bound exceeded, leaks at the end of the run);</li>
 *   <li>SKIP if the set-up or the body skipped (a coherent variant, a test the model cannot
 *       run), with the reason;</li>
 *   <li>PASS otherwise, once the test process has run to its end.</li>
 * </ul>
 *
 * <p>The runs record no trace (the 1024-page tests take up to some 640 000 steps): a failing
 * test reports its seed and step, and the same seed runs the same schedule again.
 *
 * <p>Differences from kselftest: instead of a per-test timeout, every run is bounded in
 * scheduling steps ({@link #MAX_STEPS}), virtual time and wall time
 * ({@link #WALL_TIMEOUT_MILLIS}), and exceeding a bound fails the test; no {@code XFAIL};
 * a test's failure message is the failed assertion with its values rather than a source
 * line.
 */
public final class Kselftest {
    /** The process every test runs in, named after the C program. */
    public static final String PROCESS = "hmm-tests";
    /** The default seed of a selftest run. */
    public static final long DEFAULT_SEED = 1;
    /**
     * Scheduling decisions allowed per test: about thirty times what the longest test takes
     * ({@code migrate_multiple}, some 640 000), so that only a livelock reaches it.
     */
    public static final long MAX_STEPS = 20_000_000;
    /**
     * Wall-clock bound of one test's run. The longest test takes about two seconds on a busy
     * two-core machine; the bound only turns a task stuck without scheduling points into a
     * failure instead of a hang.
     */
    public static final long WALL_TIMEOUT_MILLIS = 120_000;
    /**
     * Decision-record bytes per default timeout for a test with a longer
     * {@code TEST_F_TIMEOUT}: 256 MiB (some 13 million decisions), four times the runtime's
     * default, since such a test is long by design ({@code benchmark_thp_migration} takes about
     * 17 million decisions).
     */
    public static final long LONG_TEST_DECISION_BYTES = 256L << 20;

    private Kselftest() {
    }

    /**
     * Runs {@code test} on a fresh machine with {@code seed}; never throws for a failing test.
     * The run records sites without code frames (task and step only); a failing run is run
     * again with them, which gives the same run (a controlled run is a function of its seed),
     * so that its report shows where it failed. A run stopped by a bound is not run again:
     * the runtime gives its site frames either way.
     */
    public static SelftestResult run(Selftest test, long seed) {
        SelftestResult quick = run(test, seed, false);
        boolean bounded = quick.run().firstFailure().filter(f -> f instanceof Failure.StepBoundExceeded).isPresent();
        return quick.status() == SelftestResult.Status.FAIL && !bounded ? run(test, seed, true) : quick;
    }

    private static SelftestResult run(Selftest test, long seed, boolean siteFrames) {
        // TEST_F_TIMEOUT: a test given k times kselftest's default timeout gets k times the bounds.
        long scale = test.testCase().timeout() / TestCase.DEFAULT_TIMEOUT;
        Kernel kernel = Kernel.builder().seed(seed).maxSteps(MAX_STEPS * scale)
                .maxDecisionBytes(scale == 1 ? Kernel.DEFAULT_MAX_DECISION_BYTES : LONG_TEST_DECISION_BYTES * scale)
                .wallTimeoutMillis(WALL_TIMEOUT_MILLIS * scale)
                .trace(false).sites(false).siteFrames(siteFrames).build();
        Checkers.install(kernel);
        DmirrorModule.load(kernel);
        Process.spawn(kernel, PROCESS, self -> runInProcess(kernel, test));
        RunResult run = kernel.run();
        return verdict(test, run, TestContext.of(kernel));
    }

    /** The test process: set-up, body, tear-down, as the kselftest harness runs them. */
    private static void runInProcess(Kernel kernel, Selftest test) throws Exception {
        UserSpace sys = new UserSpace(kernel);
        Fixture fixture = test.testCase().fixture();
        FixtureData self;
        try {
            self = fixture.setUp(sys, test.variant());
        } catch (SkipTest skipped) {
            // kselftest runs no tear-down after a set-up that did not complete.
            TestContext.of(kernel).finished();
            return;
        }
        try {
            test.testCase().body().run(kernel, self, test.variant());
        } catch (SkipTest skipped) {
            // Recorded by Asserts.skip; the tear-down still runs, as in kselftest.
        }
        fixture.tearDown(sys, self);
        TestContext.of(kernel).finished();
    }

    /**
     * Where an assertion failed, in the test's own code: the site's frames without the
     * assertion helpers and the C library of {@link UserSpace}, up to three, stopping at the
     * harness; e.g. {@code at CoreTests.anonRead(CoreTests.java:75) in hmm-tests}.
     */
    static String where(Site site) {
        List<String> shown = new ArrayList<>();
        for (String frame : site.frames()) {
            if (shown.isEmpty() && (frame.startsWith("Asserts.") || frame.startsWith("UserSpace."))) {
                continue;
            }
            if (!shown.isEmpty() && (frame.startsWith("TestCase.") || frame.startsWith("Fixture.")
                    || frame.startsWith("Kselftest."))) {
                break;
            }
            shown.add(frame);
            if (shown.size() == 3) {
                break;
            }
        }
        return "at " + (shown.isEmpty() ? site.where() : String.join(" <- ", shown)) + " in " + site.task();
    }

    /** The verdict of a finished run. */
    static SelftestResult verdict(Selftest test, RunResult run, TestContext context) {
        if (!run.failures().isEmpty() || run.divergence().isPresent()) {
            Failure first = run.failures().isEmpty() ? null : run.failures().get(0);
            List<String> details = new ArrayList<>();
            String reason;
            if (first == null) {
                reason = "replay diverged: " + run.divergence().orElseThrow();
            } else if (first == context.assertion()) {
                Failure.InvariantViolation a = (Failure.InvariantViolation) first;
                reason = a.detail();
                details.add(where(a.site()));
            } else {
                reason = first.headline();
                details.addAll(first.details());
            }
            details.add("seed " + run.seed() + ", step " + run.steps());
            return new SelftestResult(test, SelftestResult.Status.FAIL, reason, details, context.counters(), run);
        }
        if (context.skipReason() != null) {
            return new SelftestResult(test, SelftestResult.Status.SKIP, context.skipReason(), List.of(),
                    context.counters(), run);
        }
        if (!context.isFinished()) {
            return new SelftestResult(test, SelftestResult.Status.FAIL, "the test process did not run to its end",
                    List.of("seed " + run.seed() + ", step " + run.steps()), context.counters(), run);
        }
        return new SelftestResult(test, SelftestResult.Status.PASS, "", List.of(), context.counters(), run);
    }
}
