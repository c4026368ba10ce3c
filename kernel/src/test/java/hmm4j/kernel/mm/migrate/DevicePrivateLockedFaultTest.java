package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.assertNoLeak;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.inProcess;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pageAt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Clone;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A CPU fault on a device-private entry whose page is locked by someone else (a migration of
 * it in progress). Since commit b570f37a2ce4 ("mm: Fix a hmm_range_fault() livelock /
 * starvation problem", v7.0, in the 6.15+ stable trees) {@code do_swap_page} no longer returns
 * at once after its failed {@code trylock_page} (the CPU, or {@code hmm_range_fault}, would
 * fault again and again, starving the lock holder's work items): it waits for the unlock
 * without a reference ({@code migration_entry_wait_on_locked}, entered with the page-table
 * lock held and dropping it), answers 0, and the access faults again and finds what the
 * migration left.
 */
class DevicePrivateLockedFaultTest {

    @Test
    void aFaultOnALockedDevicePrivatePage_waitsWithoutAReference_thenRefaults() {
        List<String> order = new CopyOnWriteArrayList<>();
        MigrateHarness.Run run = inProcess(91, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 6);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            Page device = pageAt(k, mm, a);
            assertTrue(device.trylock(), "the page is locked as a migration of it would lock it");
            int refs = device.refcount();
            var cpu = Clone.cloneVm(k, "cpu", t -> {
                assertEquals(6000, readInt(k, a));
                order.add("cpu access done");
            });
            // Virtual time moves only once "cpu" is blocked: it waits for the page lock.
            k.runtime().sleep(1_000_000);
            order.add("waiting: migrate_to_ram calls=" + dev.faultsToRam() + " refs+" + (device.refcount() - refs));
            device.unlock();
            cpu.join();
            assertTrue(Pte.isPresent(pte(mm, a)), "the refault migrated the page to system memory");
        });
        assertEquals(List.of("waiting: migrate_to_ram calls=0 refs+0", "cpu access done"), order);
        assertEquals(1, run.dev().faultsToRam(), "one migrate_to_ram, by the fault after the wait");
        assertTrue(run.k().marksHit().contains(Fault.DEVICE_PRIVATE_LOCKED));
        assertNoLeak(run);
    }
}
