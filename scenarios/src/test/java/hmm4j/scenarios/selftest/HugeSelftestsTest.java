package hmm4j.scenarios.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.HugeMemory;
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
    void migrateAnonHugeZero_mapsTheHugeZeroPage_andTheMigrationSplitsIt() {
        List<Mark> marks = marksOf("migrate_anon_huge_zero");
        assertTrue(marks.contains(HugeMemory.FAULT_ZERO), marks.toString());
        assertTrue(marks.contains(HugeMemory.SPLIT_PMD), marks.toString());
    }

    @Test
    void migrateAnonHugeFreeAndPartialUnmap_migrateASplitThp() {
        for (String name : List.of("migrate_anon_huge_free", "migrate_partial_unmap_fault")) {
            List<Mark> marks = marksOf(name);
            assertTrue(marks.contains(HugeMemory.FAULT_ALLOC) && marks.contains(HugeMemory.SPLIT_PMD),
                    name + ": " + marks);
        }
    }
}
