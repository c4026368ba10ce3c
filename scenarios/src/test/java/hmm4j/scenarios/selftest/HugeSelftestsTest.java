package hmm4j.scenarios.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.migrate.MigrateVma;
import hmm4j.sim.Mark;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The THP selftests really run on huge pages: each passes and its run hit the marks of the
 * THP paths it is meant to exercise (a fault mapping a THP or the huge zero page, a PMD split).
 */
class HugeSelftestsTest {

    private static List<Mark> marksOf(String name) {
        Selftest t = HmmTests.all().stream().filter(s -> s.name().equals("hmm.hmm_device_private." + name))
                .findFirst().orElseThrow();
        SelftestResult r = Kselftest.run(t, Kselftest.DEFAULT_SEED);
        assertEquals(SelftestResult.Status.PASS, r.status(), name + ": " + r.reason());
        return r.run().marks();
    }

    @Test
    void anonWriteHuge_faultsOneThp() {
        List<Mark> marks = marksOf("anon_write_huge");
        assertTrue(marks.contains(HugeMemory.FAULT_ALLOC), marks.toString());
        assertTrue(!marks.contains(HugeMemory.SPLIT_PMD), "a device write of a whole THP splits nothing");
    }

    @Test
    void migrateAnonHugeZero_mapsTheHugeZeroPage_andTheMigrationReplacesItWithOneDevicePmd() {
        List<Mark> marks = marksOf("migrate_anon_huge_zero");
        assertTrue(marks.contains(HugeMemory.FAULT_ZERO), marks.toString());
        assertTrue(marks.contains(MigrateVma.COLLECT_COMPOUND) && marks.contains(MigrateVma.PAGES_INSERT_HUGE_PMD),
                marks.toString());
        assertFalse(marks.contains(HugeMemory.SPLIT_PMD), "a compound hole over the huge zero page splits nothing");
    }

    @Test
    void migrateAnonHugeFree_migratesTheThpWhole() {
        List<Mark> marks = marksOf("migrate_anon_huge_free");
        assertTrue(marks.contains(HugeMemory.FAULT_ALLOC) && marks.contains(MigrateVma.COLLECT_COMPOUND), marks.toString());
        assertFalse(marks.contains(HugeMemory.SPLIT_PMD), marks.toString());
        assertFalse(marks.contains(MigrateVma.PAGES_SPLIT_UNMAPPED), marks.toString());
    }

    @Test
    void migratePartialUnmapFault_splitsTheDevicePmd_thenTheDeviceFolioOnTheFault() {
        List<Mark> marks = marksOf("migrate_partial_unmap_fault");
        assertTrue(marks.contains(HugeMemory.FAULT_ALLOC) && marks.contains(MigrateVma.COLLECT_COMPOUND)
                && marks.contains(HugeMemory.SPLIT_PMD) && marks.contains(MigrateVma.COLLECT_SPLIT_PTE_MAPPED),
                marks.toString());
    }

    @Test
    void migrateAnonHugeErr_takesBothSplitPaths() {
        List<Mark> marks = marksOf("migrate_anon_huge_err");
        // There: FAIL_ALLOC fails the huge device page, the THP is split in migrate_vma_pages.
        // Back: the device THP is collected whole, FAIL_ALLOC gives base pages, the device folio is split.
        assertTrue(marks.contains(MigrateVma.COLLECT_COMPOUND) && marks.contains(MigrateVma.PAGES_SPLIT_UNMAPPED),
                marks.toString());
    }
}
