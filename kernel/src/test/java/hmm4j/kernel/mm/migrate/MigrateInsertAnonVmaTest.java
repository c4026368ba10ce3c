package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.inProcess;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lockdep.Lockdep;
import hmm4j.kernel.mm.Rmap;
import hmm4j.sim.LockClass;
import org.junit.jupiter.api.Test;

/**
 * {@code migrate_vma_insert_page} into a VMA that was never faulted prepares its anon_vma
 * ({@code anon_vma_prepare}): the rwsem for write with {@code mm->page_table_lock} inside it.
 */
class MigrateInsertAnonVmaTest {

    @Test
    void insertingIntoAnUntouchedVma_preparesItsAnonVma() {
        MigrateHarness.Run run = inProcess(1, 8, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null));
        });
        assertTrue(Lockdep.of(run.k()).graph().hasDependency(new LockClass(Rmap.ANON_VMA_RWSEM),
                new LockClass("mm->page_table_lock")), "&anon_vma->rwsem -> mm->page_table_lock");
    }
}
