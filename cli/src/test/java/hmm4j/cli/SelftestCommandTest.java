package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.scenarios.selftest.Feature;
import hmm4j.scenarios.selftest.Fixture;
import hmm4j.scenarios.selftest.HmmTests;
import hmm4j.scenarios.selftest.Kselftest;
import hmm4j.scenarios.selftest.Selftest;
import hmm4j.scenarios.selftest.SelftestResult;
import hmm4j.scenarios.selftest.TestCase;
import hmm4j.scenarios.selftest.Variant;
import hmm4j.sim.RunResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SelftestCommandTest {
    private final List<Long> seeds = new ArrayList<>();

    /** The command line with {@code selftest} running over {@code runner}; returns exit code, out, err. */
    private static String[] run(SelftestCommand command, String... args) {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                return cls == SelftestCommand.class ? cls.cast(command) : CommandLine.defaultFactory().create(cls);
            }
        };
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.configure(new CommandLine(new Main(Map.of()), factory), new PrintWriter(out, true),
                new PrintWriter(err, true));
        int code = cl.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    /** A runner that passes the first test, skips the second and fails the others, without running them. */
    private SelftestResult fake(Selftest t, long seed) {
        seeds.add(seed);
        RunResult run = new RunResult(seed, "fake", List.of(), 0, 0, List.of(), List.of(), Optional.empty(), List.of());
        return switch (seeds.size()) {
            case 1 -> new SelftestResult(t, SelftestResult.Status.PASS, "", List.of(), Map.of(), run);
            case 2 -> new SelftestResult(t, SelftestResult.Status.SKIP, "no such device", List.of(), Map.of(), run);
            default -> new SelftestResult(t, SelftestResult.Status.FAIL,
                    "ASSERT_EQ(ret, 0) failed: ret = -14 (-EFAULT)",
                    List.of("at CoreTests.anonRead(CoreTests.java:75) in hmm-tests", "seed " + seed + ", step 9"),
                    Map.of(), run);
        };
    }

    private SelftestCommand fakeCommand() {
        BiFunction<Selftest, Long, SelftestResult> runner = this::fake;
        return new SelftestCommand(HmmTests::all, runner);
    }

    @Test
    void tapOutput_plan_results_diagnostics_totals_andExit1OnAFailure() {
        String[] r = run(fakeCommand(), "selftest", "--only", "anon_read,hmm.anon_write", "--seed", "42", "--jobs", "1");
        assertEquals("1", r[0], r[2]);
        assertEquals(String.join("\n",
                "TAP version 13",
                "1..4",
                "ok 1 hmm.hmm_device_private.anon_read",
                "ok 2 hmm.hmm_device_private.anon_write # SKIP no such device",
                "# anon_read: ASSERT_EQ(ret, 0) failed: ret = -14 (-EFAULT)",
                "#   at CoreTests.anonRead(CoreTests.java:75) in hmm-tests",
                "#   seed 42, step 9",
                "not ok 3 hmm.hmm_device_coherent.anon_read",
                "# anon_write: ASSERT_EQ(ret, 0) failed: ret = -14 (-EFAULT)",
                "#   at CoreTests.anonRead(CoreTests.java:75) in hmm-tests",
                "#   seed 42, step 9",
                "not ok 4 hmm.hmm_device_coherent.anon_write",
                "# Totals: pass:1 fail:2 xfail:0 xpass:0 skip:1 error:0",
                ""), r[1]);
        assertEquals("", r[2]);
        assertEquals(List.of(42L, 42L, 42L, 42L), seeds);
    }

    @Test
    void realRun_openClose_passesPrivateAndCoherent_exit0() {
        String[] r = run(new SelftestCommand(), "selftest", "--only", "hmm.open_close");
        assertEquals("0", r[0], r[1] + r[2]);
        assertEquals(String.join("\n",
                "TAP version 13",
                "1..2",
                "ok 1 hmm.hmm_device_private.open_close",
                "ok 2 hmm.hmm_device_coherent.open_close",
                "# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0",
                ""), r[1]);
    }

    @Test
    void list_namesEveryTest_withoutRunningAny() {
        String[] r = run(fakeCommand(), "selftest", "--list");
        assertEquals("0", r[0]);
        List<String> lines = r[1].lines().toList();
        assertEquals(HmmTests.all().size(), lines.size());
        assertEquals("hmm.hmm_device_private.open_close", lines.get(0));
        assertTrue(lines.contains("hmm2.hmm2_device_private.double_map"), r[1]);
        assertTrue(seeds.isEmpty());
    }

    @Test
    void unknownTest_isOneLineAndExit2() {
        String[] r = run(fakeCommand(), "selftest", "--only", "anon_read,nope");
        assertEquals("2", r[0]);
        assertEquals(List.of("hmm4j: Unknown test: 'nope'; 'hmm4j selftest --list' names them"
                + " (see 'hmm4j selftest --help')"), r[2].lines().toList());
        assertEquals("", r[1]);
        assertTrue(seeds.isEmpty());
    }

    @Test
    void everySelectedTestSkipped_nothingRan_exit4() {
        // Every test of hmm-tests.c runs in the model; a synthetic case skipping after set-up (as
        // a C test without its kernel feature does) stands for one, next to a real test filtered out.
        TestCase skipping = TestCase.skipped(Fixture.HMM, "needs_missing_feature", EnumSet.of(Feature.M),
                "the feature this synthetic case needs is not modelled");
        Variant coherent = Fixture.HMM.variants().get(1);
        SelftestCommand command = new SelftestCommand(() -> List.of(new Selftest(skipping, coherent),
                HmmTests.all().get(0)), Kselftest::run);
        String[] r = run(command, "selftest", "--only", "hmm.hmm_device_coherent.needs_missing_feature");
        assertEquals("4", r[0], r[1] + r[2]);
        assertTrue(r[1].contains("ok 1 hmm.hmm_device_coherent.needs_missing_feature # SKIP"), r[1]);
        assertTrue(r[1].contains("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"), r[1]);
    }

    @Test
    void badSeed_isOneLineAndExit2() {
        String[] r = run(fakeCommand(), "selftest", "--seed", "x");
        assertEquals("2", r[0]);
        assertEquals(1, r[2].lines().count(), r[2]);
        assertTrue(r[2].startsWith("hmm4j: "), r[2]);
    }

    /** A thread-safe runner whose verdict depends on the test alone: by the test's name. */
    private static SelftestResult byName(Selftest t, long seed) {
        RunResult run = new RunResult(seed, "fake", List.of(), 0, 0, List.of(), List.of(), Optional.empty(), List.of());
        return t.name().contains("coherent")
                ? new SelftestResult(t, SelftestResult.Status.FAIL, "ASSERT_EQ(ret, 0) failed: ret = -22 (-EINVAL)",
                        List.of("seed " + seed), Map.of(), run)
                : new SelftestResult(t, SelftestResult.Status.PASS, "", List.of(), Map.of(), run);
    }

    /** Two jobs print what one job prints: the suite's order, whatever order the tests end in. */
    @Test
    void twoJobs_printExactlyWhatOneJobPrints() {
        String only = "anon_read,anon_write,migrate,snapshot,double_map,exclusive";
        String[] one = run(new SelftestCommand(HmmTests::all, SelftestCommandTest::byName), "selftest", "--only",
                only, "--jobs", "1");
        String[] two = run(new SelftestCommand(HmmTests::all, SelftestCommandTest::byName), "selftest", "--only",
                only, "--jobs", "2");
        assertEquals("1", one[0]);
        assertEquals(one[0], two[0]);
        assertEquals(one[1], two[1]);
        assertTrue(one[1].contains("\nok 1 hmm.hmm_device_private.anon_read\n")
                && one[1].contains("\nnot ok 5 hmm.hmm_device_coherent.anon_read\n"), one[1]);
    }

    /**
     * Two jobs run two tests at once, but never two of the long tests (a longer
     * TEST_F_TIMEOUT): with the two benchmark_thp_migration tests first and an ordinary test
     * third, each benchmark waits until the ordinary test has started, which only the rule
     * makes possible (two benchmarks at once would hold both jobs and wait for ever; the wait
     * is bounded so that the test fails instead).
     */
    @Test
    void twoJobs_runTestsAtOnce_butNeverTwoLongTests() {
        java.util.concurrent.CountDownLatch ordinaryStarted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger longRunning = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger maxLong = new java.util.concurrent.atomic.AtomicInteger();
        BiFunction<Selftest, Long, SelftestResult> runner = (t, seed) -> {
            if (t.name().endsWith("benchmark_thp_migration")) {
                maxLong.accumulateAndGet(longRunning.incrementAndGet(), Math::max);
                try {
                    if (!ordinaryStarted.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                        throw new AssertionError("the ordinary test never started beside " + t.name());
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                } finally {
                    longRunning.decrementAndGet();
                }
            } else {
                ordinaryStarted.countDown();
            }
            return byName(t, seed);
        };
        String[] r = run(new SelftestCommand(HmmTests::all, runner), "selftest", "--only",
                "hmm.hmm_device_private.benchmark_thp_migration,hmm.hmm_device_coherent.benchmark_thp_migration,"
                        + "hmm2.hmm2_device_private.snapshot", "--jobs", "2");
        assertEquals(String.join("\n",
                "TAP version 13",
                "1..3",
                "ok 1 hmm.hmm_device_private.benchmark_thp_migration",
                "# benchmark_thp_migration: ASSERT_EQ(ret, 0) failed: ret = -22 (-EINVAL)",
                "#   seed 1",
                "not ok 2 hmm.hmm_device_coherent.benchmark_thp_migration",
                "ok 3 hmm2.hmm2_device_private.snapshot",
                "# Totals: pass:2 fail:1 xfail:0 xpass:0 skip:0 error:0",
                ""), r[1]);
        assertEquals(1, maxLong.get(), "long tests running at once");
    }

    @Test
    void jobsBelowOne_isOneLineAndExit2() {
        String[] r = run(fakeCommand(), "selftest", "--jobs", "0");
        assertEquals("2", r[0]);
        assertEquals(1, r[2].lines().count(), r[2]);
        assertTrue(r[2].contains("--jobs must be at least 1"), r[2]);
    }
}
