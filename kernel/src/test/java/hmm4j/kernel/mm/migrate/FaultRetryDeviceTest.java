package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.assertNoLeak;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.inProcess;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.VmaLock;
import hmm4j.kernel.sched.Clone;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Fault retry with device memory: a fault under the per-VMA lock that meets a device-private
 * entry gives the VMA lock back with {@code VM_FAULT_RETRY} and is redone under
 * {@code mmap_lock}, where {@code migrate_to_ram} runs (its {@code migrate_vma_setup} asserts
 * the mmap lock); a CPU fault on a device-exclusive entry whose page is locked drops its fault
 * lock while it waits ({@code folio_lock_or_retry}), so a writer of the mmap lock gets in.
 */
class FaultRetryDeviceTest {

    @Test
    void aDevicePrivateEntry_underTheVmaLock_isRetriedUnderMmapLock_whereMigrateToRamRuns() {
        MigrateHarness.Run run = inProcess(81, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 3);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            assertEquals(3000, readInt(k, a));
            assertEquals(1, dev.faultsToRam());
            assertTrue(Pte.isPresent(pte(mm, a)));
            assertTrue(k.marksHit().contains(Fault.DEVICE_PRIVATE_VMA_LOCK_RETRY));
            assertTrue(k.marksHit().contains(UserAccess.VMA_LOCK_RETRY));
        });
        assertNoLeak(run);
    }

    @Test
    void aLockedDeviceExclusivePage_makesTheFaultDropItsLockWaitAndRetry() {
        List<String> order = new CopyOnWriteArrayList<>();
        MigrateHarness.Run run = inProcess(82, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 5);
            mm.mmapReadLock();
            ErrPtr<Page> got = DeviceExclusive.makeDeviceExclusive(mm, a, GPU);
            mm.mmapReadUnlock();
            assertFalse(got.isErr(), got.toString());
            Page p = got.get();
            var cpu = Clone.cloneVm(k, "cpu", t -> {
                assertEquals(5000, readInt(k, a));
                order.add("cpu access done");
            });
            // Virtual time moves only once "cpu" is blocked: it waits for the page lock.
            k.runtime().sleep(1_000_000);
            mm.mmapWriteLock();
            order.add("mmap write lock taken while the fault waits");
            mm.mmapWriteUnlock();
            p.unlock();
            p.put();
            cpu.join();
            assertEquals(List.of("mmap write lock taken while the fault waits", "cpu access done"), order);
            assertTrue(k.marksHit().contains(Fault.LOCK_OR_RETRY_DROPPED));
            assertTrue(k.marksHit().contains(VmaLock.FAULT_UNDER_VMA_LOCK));
            assertTrue(k.marksHit().contains(UserAccess.VMA_LOCK_RETRY));
            assertTrue(Pte.isPresent(pte(mm, a)), "the entry is restored");
        });
        assertNoLeak(run);
    }
}
