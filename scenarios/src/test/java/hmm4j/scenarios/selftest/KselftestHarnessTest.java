package hmm4j.scenarios.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.sync.Completion;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The harness itself: verdicts (a failed assertion, a checker's failure, a skip in set-up or
 * body, a pass), the failure message naming the C assertion, and the TAP lines.
 */
class KselftestHarnessTest {
    private static final Variant PRIVATE = Fixture.HMM.variants().get(0);
    private static final Variant COHERENT = Fixture.HMM.variants().get(1);
    /**
     * A synthetic case that skips the way a C test without its kernel feature does (every test
     * of hmm-tests.c runs in the model, so none of the catalogue skips any more).
     */
    private static final TestCase NEEDS_MISSING_FEATURE = TestCase.skipped(Fixture.HMM, "needs_missing_feature",
            java.util.EnumSet.of(Feature.M), "the feature this synthetic case needs is not modelled");

    private static Selftest test(String name, TestCase.HmmBody<CoreTests> body) {
        return new Selftest(TestCase.hmm(name, EnumSet.of(Feature.C), CoreTests::new, body), PRIVATE);
    }

    @Test
    void failedAssertion_failsTheTest_withTheCAssertionAndItsValues() {
        SelftestResult r = Kselftest.run(test("boom", (t, self, v) -> t.assertEq("ret", -14, 0)), 3);
        assertEquals(SelftestResult.Status.FAIL, r.status());
        assertEquals("ASSERT_EQ(ret, 0) failed: ret = -14 (-EFAULT)", r.reason());
        assertTrue(r.diagnostics().get(0).matches("at KselftestHarnessTest\\.lambda.* in hmm-tests"),
                r.diagnostics().toString());
        assertEquals("seed 3, step " + r.run().steps(), r.diagnostics().get(r.diagnostics().size() - 1));
    }

    @Test
    void failedElementCheck_namesTheIndex() {
        SelftestResult r = Kselftest.run(test("elements", (t, self, v) ->
                t.assertEach("ptr[i]", "i", new int[] {0, 1, 7, 3}, 0, 4, i -> i)), 1);
        assertEquals("ASSERT_EQ(ptr[i], i) failed: at i = 2: ptr[i] = 7, i = 2", r.reason());
    }

    @Test
    void failedAssertionInAForkedChild_failsTheTest() {
        SelftestResult r = Kselftest.run(test("child", (t, self, v) -> {
            ChildProcess pid = t.fork(() -> t.assertEq("buffer->faults", 2, 1));
            t.waitpid(pid);
        }), 1);
        assertEquals(SelftestResult.Status.FAIL, r.status());
        assertEquals("ASSERT_EQ(buffer->faults, 1) failed: buffer->faults = 2", r.reason());
        assertTrue(r.diagnostics().get(0).endsWith(" in hmm-tests-child1"), r.diagnostics().toString());
    }

    @Test
    void checkerFailure_failsTheTest_withTheVerdict() {
        SelftestResult r = Kselftest.run(test("stuck", (t, self, v) ->
                new Completion(t.kernel, "never").waitForCompletion()), 1);
        assertEquals(SelftestResult.Status.FAIL, r.status());
        assertTrue(r.reason().startsWith("deadlock: no task can run"), r.reason());
    }

    @Test
    void throwingBody_failsTheTest() {
        SelftestResult r = Kselftest.run(test("throws", (t, self, v) -> {
            throw new IllegalStateException("bad state");
        }), 1);
        assertEquals(SelftestResult.Status.FAIL, r.status());
        assertTrue(r.reason().contains("IllegalStateException: bad state"), r.reason());
    }

    @Test
    void coherentVariant_opensTheCoherentDevice_asKselftestOnAMachineWithSpecificPurposeMemory() {
        Selftest t = new Selftest(TestCase.hmm("any", EnumSet.of(Feature.C), CoreTests::new,
                (g, self, v) -> {
                    if (!self.fd.device().isCoherent() || self.fd.device().minor() != 2) {
                        g.fail("the body", "opened " + self.fd.device());
                    }
                }), COHERENT);
        SelftestResult r = Kselftest.run(t, 1);
        assertEquals(SelftestResult.Status.PASS, r.status(), r.reason());
    }

    @Test
    void skippedTest_skipsAfterSetUp_andTearsDown() {
        Selftest t = new Selftest(NEEDS_MISSING_FEATURE, PRIVATE);
        SelftestResult r = Kselftest.run(t, 1);
        assertEquals(SelftestResult.Status.SKIP, r.status());
        assertEquals(NEEDS_MISSING_FEATURE.skipReason(), r.reason());
        assertTrue(r.run().clean());
    }

    @Test
    void tapLines_followKselftest() {
        Selftest pass = test("open_close", (t, self, v) -> { });
        SelftestResult ok = Kselftest.run(pass, 1);
        SelftestResult skip = Kselftest.run(new Selftest(NEEDS_MISSING_FEATURE, COHERENT), 1);
        SelftestResult fail = Kselftest.run(test("boom", (t, self, v) -> t.assertEq("ret", -22, 0)), 1);

        assertEquals(List.of("TAP version 13", "1..3"), Tap.header(3));
        assertEquals(List.of("ok 1 hmm.hmm_device_private.open_close"), Tap.lines(1, ok));
        assertEquals(List.of("ok 2 hmm.hmm_device_coherent.needs_missing_feature # SKIP "
                + NEEDS_MISSING_FEATURE.skipReason()),
                Tap.lines(2, skip));
        List<String> failed = Tap.lines(3, fail);
        assertEquals("# boom: ASSERT_EQ(ret, 0) failed: ret = -22 (-EINVAL)", failed.get(0));
        assertTrue(failed.get(1).matches("#   at KselftestHarnessTest\\.lambda.* in hmm-tests"), failed.toString());
        assertEquals("not ok 3 hmm.hmm_device_private.boom", failed.get(failed.size() - 1));
        assertEquals("# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0", Tap.totals(List.of(ok, skip, fail)));
    }

    @Test
    void selectors_matchFullShortAndBareNames() {
        Selftest t = HmmTests.all().get(1);
        assertEquals("hmm.hmm_device_private.anon_read", t.name());
        assertTrue(t.matches("hmm.hmm_device_private.anon_read"));
        assertTrue(t.matches("hmm.anon_read"));
        assertTrue(t.matches("anon_read"));
        assertTrue(!t.matches("hmm2.anon_read") && !t.matches("anon_read_prot"));
    }
}
