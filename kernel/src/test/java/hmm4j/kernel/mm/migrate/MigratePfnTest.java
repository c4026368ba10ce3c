package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_VALID;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.lifetime.Runs;
import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

/** The {@code MIGRATE_PFN_*} encoding: its pfn range, its decoding and its rendering. */
class MigratePfnTest {

    @Test
    void migratePfn_acceptsEveryPfnTheFieldHolds_andNothingElse() {
        long max = -1L >>> MigratePfn.MIGRATE_PFN_SHIFT;
        assertEquals((1L << MigratePfn.MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID, MigratePfn.migratePfn(1));
        assertEquals(max, MigratePfn.pfn(MigratePfn.migratePfn(max)));
        assertEquals(0x2a, MigratePfn.pfn(MigratePfn.migratePfn(0x2a) | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE));
        assertThrows(IllegalArgumentException.class, () -> MigratePfn.migratePfn(0));
        assertThrows(IllegalArgumentException.class, () -> MigratePfn.migratePfn(-1));
        assertThrows(IllegalArgumentException.class, () -> MigratePfn.migratePfn(max + 1));
    }

    @Test
    void migratePfnToPage_isNullWithoutValid_andRefusesAPfnWithNoPage() {
        Kernel k = Runs.checkedKernel(1);
        PhysMem phys = PhysMem.of(k);
        Page page = phys.allocPage();
        assertSame(page, MigratePfn.migratePfnToPage(phys, MigratePfn.migratePfn(page.pfn()) | MIGRATE_PFN_MIGRATE));
        assertNull(MigratePfn.migratePfnToPage(phys, MigratePfn.migratePfn(page.pfn()) & ~MIGRATE_PFN_VALID));
        assertNull(MigratePfn.migratePfnToPage(phys, 0));
        assertThrows(IllegalArgumentException.class,
                () -> MigratePfn.migratePfnToPage(phys, MigratePfn.migratePfn(page.pfn() + 1000)));
    }

    @Test
    void toString_namesThePfnAndEachFlag() {
        assertEquals("0", MigratePfn.toString(0));
        assertEquals("pfn=0x2a VALID", MigratePfn.toString(MigratePfn.migratePfn(0x2a)));
        assertEquals("pfn=0x2a VALID MIGRATE WRITE COMPOUND", MigratePfn.toString(MigratePfn.migratePfn(0x2a)
                | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE | MIGRATE_PFN_COMPOUND));
        assertEquals("MIGRATE", MigratePfn.toString(MIGRATE_PFN_MIGRATE));
        assertEquals("WRITE", MigratePfn.toString(MIGRATE_PFN_WRITE));
        assertEquals("COMPOUND", MigratePfn.toString(MIGRATE_PFN_COMPOUND));
        assertEquals("MIGRATE WRITE", MigratePfn.toString(MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE));
    }
}
