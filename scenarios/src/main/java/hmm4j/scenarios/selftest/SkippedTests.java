package hmm4j.scenarios.selftest;

import static hmm4j.scenarios.selftest.Feature.F;
import static hmm4j.scenarios.selftest.Feature.M;
import static hmm4j.scenarios.selftest.Feature.T;

import java.util.EnumSet;

/**
 * The tests of hmm-tests.c the model cannot run, each with the reason it is skipped, as
 * kselftest skips a test whose kernel feature is missing: device-private THP migration
 * (compound device pages, part of T) is not modelled. The fault-injection tests (F) all inject
 * the failure of a device THP allocation, so they need it too. Anonymous THP and hugetlbfs are
 * modelled ({@link HugeTests}); {@code hmm_gup_test} and {@code migrate_remap_fault} run (see
 * {@link GupTests} and {@link MremapTests}).
 */
final class SkippedTests {
    static final String NO_THP = "device-private THP migration is not modelled (no MIGRATE_VMA_SELECT_COMPOUND, "
            + "no compound device pages)";

    private SkippedTests() {
    }

    /** {@code migrate_anon_huge_fault}: a collapsed THP migrates as one device-private THP. */
    static TestCase migrateAnonHugeFault() {
        return TestCase.skipped(Fixture.HMM, "migrate_anon_huge_fault", EnumSet.of(M, T),
                NO_THP + "; it also needs MADV_COLLAPSE and /proc/self/pagemap");
    }

    /** {@code migrate_anon_huge_err}: FAIL_ALLOC forces the THP migration to split. */
    static TestCase migrateAnonHugeErr() {
        return TestCase.skipped(Fixture.HMM, "migrate_anon_huge_err", EnumSet.of(M, T, F),
                NO_THP + "; its FAIL_ALLOC injection forces a THP split");
    }

    /** {@code migrate_anon_huge_zero_err}: FAIL_ALLOC on a huge zero page. */
    static TestCase migrateAnonHugeZeroErr() {
        return TestCase.skipped(Fixture.HMM, "migrate_anon_huge_zero_err", EnumSet.of(M, T, F),
                NO_THP + "; its FAIL_ALLOC injection forces a THP split");
    }

    /** {@code benchmark_thp_migration}: THP against base-page migration throughput. */
    static TestCase benchmarkThpMigration() {
        return TestCase.skipped(Fixture.HMM, "benchmark_thp_migration", EnumSet.of(M, T),
                NO_THP + "; a wall-clock benchmark, and the model runs on virtual time");
    }
}
