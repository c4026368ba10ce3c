package hmm4j.scenarios.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The ported hmm-tests.c suite under {@code mvn verify}: every selftest runs with the
 * default seed and must pass; a skip is allowed only with a reason, and only for a test the
 * catalogue marks as not ported (none is now: every test of the C file runs, in both
 * variants), so that a ported test cannot silently turn into a skip.
 */
class HmmSelftestsTest {

    @TestFactory
    Stream<DynamicTest> everySelftest_passesOrSkipsWithAReason() {
        return HmmTests.all().stream().map(t -> DynamicTest.dynamicTest(t.name(), () -> {
            SelftestResult r = Kselftest.run(t, Kselftest.DEFAULT_SEED);
            assertFalse(r.status() == SelftestResult.Status.FAIL,
                    () -> t.name() + " failed: " + r.reason() + "\n  " + String.join("\n  ", r.diagnostics()));
            if (r.status() == SelftestResult.Status.SKIP) {
                assertFalse(r.reason().isBlank(), t.name() + " skipped without a reason");
                assertTrue(expectedToSkip(t), t.name() + " is ported but skipped: " + r.reason());
                assertEquals(expectedSkipReason(t), r.reason(), t.name());
            } else {
                assertFalse(expectedToSkip(t), t.name() + " passed but is listed as skipped");
            }
        }));
    }

    @Test
    void theSuite_hasTheCFilesThirtyEightTests_inBothVariants() {
        List<TestCase> cases = HmmTests.testCases();
        assertEquals(38, cases.size());
        assertEquals(cases.size(), cases.stream().map(TestCase::name).distinct().count(), "names are unique");
        List<Selftest> all = HmmTests.all();
        assertEquals(2 * cases.size(), all.size(), "every test runs once per variant");
        assertEquals("hmm.hmm_device_private.open_close", all.get(0).name());
        assertEquals("hmm.hmm_device_coherent.open_close", all.get(35).name());
        assertEquals("hmm2.hmm2_device_private.migrate_mixed", all.get(70).name());
        assertEquals("hmm2.hmm2_device_coherent.double_map", all.get(75).name());
    }

    @Test
    void portedTests_coverEveryFeatureTheModelHas() {
        Set<String> ported = HmmTests.testCases().stream().filter(TestCase::ported).map(TestCase::name)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(List.of("open_close", "anon_read", "anon_read_prot", "anon_write",
                "anon_write_prot", "anon_write_child", "anon_write_child_shared", "file_read", "file_write",
                "migrate", "migrate_file_private", "migrate_fault", "migrate_release", "migrate_shared",
                "migrate_mixed", "migrate_multiple", "anon_read_multiple", "anon_teardown", "mixedmap", "snapshot",
                "double_map", "exclusive", "exclusive_mprotect", "exclusive_cow", "hmm_gup_test", "hmm_cow_in_device",
                "migrate_partial_unmap_fault", "migrate_remap_fault", "anon_write_huge", "migrate_anon_huge_empty",
                "migrate_anon_huge_zero", "migrate_anon_huge_free", "anon_write_hugetlbfs", "compound",
                "migrate_anon_huge_fault", "migrate_anon_huge_err", "migrate_anon_huge_zero_err",
                "benchmark_thp_migration")), ported);
        assertEquals(HmmTests.testCases().size(), ported.size(), "no test of the C file is skipped by the model");
        for (TestCase c : HmmTests.testCases()) {
            if (!c.ported()) {
                assertTrue(c.features().contains(Feature.T), c.name() + " is skipped without needing T");
            }
        }
    }

    private static boolean expectedToSkip(Selftest t) {
        return !t.testCase().ported();
    }

    private static String expectedSkipReason(Selftest t) {
        return t.testCase().skipReason();
    }
}
