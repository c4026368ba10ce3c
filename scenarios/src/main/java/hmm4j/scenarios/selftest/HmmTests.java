package hmm4j.scenarios.selftest;

import static hmm4j.scenarios.selftest.Feature.C;
import static hmm4j.scenarios.selftest.Feature.F;
import static hmm4j.scenarios.selftest.Feature.G;
import static hmm4j.scenarios.selftest.Feature.H;
import static hmm4j.scenarios.selftest.Feature.M;
import static hmm4j.scenarios.selftest.Feature.R;
import static hmm4j.scenarios.selftest.Feature.T;
import static hmm4j.scenarios.selftest.Feature.TWO;
import static hmm4j.scenarios.selftest.Feature.W;
import static hmm4j.scenarios.selftest.Feature.X;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The suite: every test of hmm-tests.c in the order of the C file (the numbering of the
 * table in docs/selftests.md), ported or skipped with its reason, and its expansion over
 * the fixtures' variants in the order kselftest runs them (fixture by fixture, variant by
 * variant, then the tests).
 */
public final class HmmTests {
    private HmmTests() {
    }

    /** The 38 tests of the C file, in its order. */
    public static List<TestCase> testCases() {
        return List.of(
                TestCase.hmm("open_close", EnumSet.of(C), CoreTests::new, CoreTests::openClose),
                TestCase.hmm("anon_read", EnumSet.of(C), CoreTests::new, CoreTests::anonRead),
                TestCase.hmm("anon_read_prot", EnumSet.of(C), CoreTests::new, CoreTests::anonReadProt),
                TestCase.hmm("anon_write", EnumSet.of(C), CoreTests::new, CoreTests::anonWrite),
                TestCase.hmm("anon_write_prot", EnumSet.of(C), CoreTests::new, CoreTests::anonWriteProt),
                TestCase.hmm("anon_write_child", EnumSet.of(C), CoreTests::new, CoreTests::anonWriteChild),
                TestCase.hmm("anon_write_child_shared", EnumSet.of(C), CoreTests::new,
                        CoreTests::anonWriteChildShared),
                TestCase.hmm("anon_write_huge", EnumSet.of(T), HugeTests::new, HugeTests::anonWriteHuge),
                TestCase.hmm("anon_write_hugetlbfs", EnumSet.of(H), HugeTests::new, HugeTests::anonWriteHugetlbfs),
                TestCase.hmm("file_read", EnumSet.of(C), CoreTests::new, CoreTests::fileRead),
                TestCase.hmm("file_write", EnumSet.of(C), CoreTests::new, CoreTests::fileWrite),
                TestCase.hmm("migrate", EnumSet.of(M), MigrateTests::new, MigrateTests::migrate),
                TestCase.hmm("migrate_file_private", EnumSet.of(M), MigrateTests::new,
                        MigrateTests::migrateFilePrivate),
                TestCase.hmm("migrate_fault", EnumSet.of(M), MigrateTests::new, MigrateTests::migrateFault),
                TestCase.hmm("migrate_release", EnumSet.of(M), MigrateTests::new, MigrateTests::migrateRelease),
                TestCase.hmm("migrate_shared", EnumSet.of(M), MigrateTests::new, MigrateTests::migrateShared),
                TestCase.hmm2("migrate_mixed", EnumSet.of(M, TWO), TwoDeviceTests::new,
                        TwoDeviceTests::migrateMixed),
                TestCase.hmm("migrate_multiple", EnumSet.of(M), MigrateTests::new, MigrateTests::migrateMultiple),
                TestCase.hmm("anon_read_multiple", EnumSet.of(C), CoreTests::new, CoreTests::anonReadMultiple),
                TestCase.hmm("anon_teardown", EnumSet.of(C, R), CoreTests::new, CoreTests::anonTeardown),
                TestCase.hmm("mixedmap", EnumSet.of(C), CoreTests::new, CoreTests::mixedmap),
                TestCase.hmm2("snapshot", EnumSet.of(C, M, TWO), TwoDeviceTests::new, TwoDeviceTests::snapshot),
                TestCase.hmm("compound", EnumSet.of(H), HugeTests::new, HugeTests::compound),
                TestCase.hmm2("double_map", EnumSet.of(C, M, TWO), TwoDeviceTests::new, TwoDeviceTests::doubleMap),
                TestCase.hmm("exclusive", EnumSet.of(X), ExclusiveTests::new, ExclusiveTests::exclusive),
                TestCase.hmm("exclusive_mprotect", EnumSet.of(X), ExclusiveTests::new,
                        ExclusiveTests::exclusiveMprotect),
                TestCase.hmm("exclusive_cow", EnumSet.of(X, W), ExclusiveTests::new, ExclusiveTests::exclusiveCow),
                TestCase.hmm("hmm_gup_test", EnumSet.of(M, G), GupTests::new, GupTests::hmmGupTest),
                TestCase.hmm("hmm_cow_in_device", EnumSet.of(M, W), MigrateTests::new, MigrateTests::hmmCowInDevice),
                TestCase.hmm("migrate_anon_huge_empty", EnumSet.of(M, T), HugeTests::new,
                        HugeTests::migrateAnonHugeEmpty),
                TestCase.hmm("migrate_anon_huge_zero", EnumSet.of(M, T), HugeTests::new,
                        HugeTests::migrateAnonHugeZero),
                TestCase.hmm("migrate_anon_huge_free", EnumSet.of(M, T), HugeTests::new,
                        HugeTests::migrateAnonHugeFree),
                TestCase.hmm("migrate_anon_huge_fault", EnumSet.of(M, T), ThpMigrateTests::new,
                        ThpMigrateTests::migrateAnonHugeFault),
                TestCase.hmm("migrate_partial_unmap_fault", EnumSet.of(M, T), HugeTests::new,
                        HugeTests::migratePartialUnmapFault),
                TestCase.hmm("migrate_remap_fault", EnumSet.of(M, T), MremapTests::new,
                        MremapTests::migrateRemapFault),
                TestCase.hmm("migrate_anon_huge_err", EnumSet.of(M, T, F), ThpMigrateTests::new,
                        ThpMigrateTests::migrateAnonHugeErr),
                TestCase.hmm("migrate_anon_huge_zero_err", EnumSet.of(M, T, F), ThpMigrateTests::new,
                        ThpMigrateTests::migrateAnonHugeZeroErr),
                TestCase.hmm("benchmark_thp_migration", EnumSet.of(M, T), ThpMigrateTests::new,
                        ThpMigrateTests::benchmarkThpMigration).withTimeout(120));
    }

    /**
     * Every runnable selftest in kselftest's order: for each fixture ({@code hmm}, then
     * {@code hmm2}), for each of its variants, its tests in file order.
     */
    public static List<Selftest> all() {
        List<TestCase> cases = testCases();
        List<Selftest> out = new ArrayList<>();
        for (Fixture fixture : Fixture.values()) {
            for (Variant variant : fixture.variants()) {
                for (TestCase c : cases) {
                    if (c.fixture() == fixture) {
                        out.add(new Selftest(c, variant));
                    }
                }
            }
        }
        return List.copyOf(out);
    }
}
