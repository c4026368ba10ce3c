package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.assertNoLeak;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.inProcess;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pageAt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mremap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code mremap} of device-private entries: they move with their device page, their place
 * moves in the pgmap's device rmap, the mirror is told with {@code MMU_NOTIFY_UNMAP} of the
 * source range, and a CPU fault at the new address brings the page back to system memory.
 */
class MremapDeviceTest {

    @Test
    void fixedMove_ofDevicePrivateEntries_movesThemAndTheirRmapPlaces_andTheFaultAtTheNewAddressMigratesBack() {
        MigrateHarness.Run run = inProcess(51, 8, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 8, RW);
            assertEquals(0, Mmap.munmap(mm, a + 4 * PAGE, 4 * PAGE));
            fill(k, a, 4, 3);
            assertEquals(4, dev.migrateToDevice(mm, a, 4, null));
            Page d1 = pageAt(k, mm, a + PAGE);
            rec.clear();

            long to = a + 4 * PAGE;
            assertEquals(to, Mremap.mremap(mm, a, 4 * PAGE, 4 * PAGE, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, to));

            String unmap = MigrateHarness.Recorder.line("MMU_NOTIFY_UNMAP", a, a + 4 * PAGE, null);
            assertEquals(List.of(unmap, unmap), rec.events(), "the move, then the munmap of the source");
            long e = pte(mm, to + PAGE);
            assertTrue(Pte.isDevicePrivate(e) && Pte.isWrite(e), Pte.toString(e));
            assertSame(d1, pageAt(k, mm, to + PAGE));
            assertEquals(1, d1.mapcount());
            assertEquals(List.of(dev.pgmap().rmapDescribe(d1).get(0)), dev.pgmap().rmapDescribe(d1));
            assertTrue(dev.pgmap().rmapDescribe(d1).get(0).contains(Long.toHexString(to + PAGE)),
                    "the rmap names the new place: " + dev.pgmap().rmapDescribe(d1));

            assertEquals(3001, readInt(k, to + PAGE), "the fault migrates the page back");
            assertEquals(1, dev.faultsToRam());
            assertTrue(Pte.isPresent(pte(mm, to + PAGE)));
            check(k, to, 4, 3);
            assertEquals(0, dev.pgmap().pagesInUse(), "every device page came back");
        });
        assertNoLeak(run);
    }

    @Test
    void dontUnmap_ofDevicePrivateEntries_leavesTheSourceEmpty() {
        MigrateHarness.Run run = inProcess(52, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 4);
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null));
            rec.clear();

            long to = Mremap.mremap(mm, a, 2 * PAGE, 2 * PAGE, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_DONTUNMAP, 0);

            assertEquals(List.of(MigrateHarness.Recorder.line("MMU_NOTIFY_UNMAP", a, a + 2 * PAGE, null)),
                    rec.events());
            assertEquals(0, pte(mm, a));
            assertTrue(Pte.isDevicePrivate(pte(mm, to)));
            assertEquals(0, readInt(k, a), "the source faults in a zero page");
            check(k, to, 2, 4);
            assertEquals(0, Mmap.munmap(mm, a, 2 * PAGE));
            assertEquals(0, Mmap.munmap(mm, to, 2 * PAGE));
        });
        assertNoLeak(run);
    }
}
