package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
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
import static hmm4j.kernel.mm.migrate.MigrateHarness.writeInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The CPU side of device memory: a CPU access to a device-private page migrates it back
 * through the pgmap's {@code migrate_to_ram}; a CPU fault that fills a collected hole first
 * makes {@code migrate_vma_pages} lose that page cleanly; exclusive access
 * ({@code make_device_exclusive}) is revoked by any CPU access, with a notifier event.
 */
class DeviceFaultTest {

    private static String line(String event, long start, long end, Object owner) {
        return MigrateHarness.Recorder.line(event, start, end, owner);
    }

    @Test
    void cpuReadAndWrite_ofDevicePages_migrateThemBackThroughMigrateToRam() {
        MigrateHarness.Run run = inProcess(11, 8, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 9);
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null));
            Page device0 = pageAt(k, mm, a);
            rec.clear();
            assertEquals(9000, readInt(k, a));
            assertEquals(1, dev.faultsToRam());
            assertEquals(List.of(line("MMU_NOTIFY_MIGRATE", a, a + PAGE, GPU)), rec.events(),
                    "one MIGRATE invalidation of the faulting page, owned by the device");
            long e = pte(mm, a);
            assertTrue(Pte.isPresent(e) && Pte.isWrite(e), Pte.toString(e));
            assertEquals(Page.State.DEVICE_IDLE, device0.state(), "the device page went back to its driver");
            assertTrue(Pte.isDevicePrivate(pte(mm, a + PAGE)), "only the touched page moved");

            writeInt(k, a + PAGE, 4242);
            assertEquals(2, dev.faultsToRam());
            assertEquals(4242, readInt(k, a + PAGE));
            assertEquals(-9001, readInt(k, a + 2 * PAGE - 4));
            assertEquals(0, dev.pgmap().pagesInUse());
            assertEquals(2, dev.pagesFreed());
        });
        assertNoLeak(run);
    }

    @Test
    void aFailedMigrateToRam_failsTheAccess_andTheDataStaysOnTheDevice() {
        MigrateHarness.Run run = inProcess(12, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 3);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            dev.failNextSystemAllocs(1);
            byte[] buf = new byte[4];
            assertEquals(-Errno.EFAULT, UserAccess.copyFromUser(k, buf, a), "VM_FAULT_OOM from migrate_to_ram");
            Page d = pageAt(k, mm, a);
            assertTrue(d.isDevicePrivate() && !d.isLocked());
            assertEquals(1, d.refcount());
            assertEquals(1, d.mapcount());
            check(k, a, 1, 3);
        });
        assertNoLeak(run);
    }

    /**
     * A device thread collects two holes; before it commits, the process writes into the
     * first, whose fault maps an ordinary page. The insert of that page loses (MIGRATE
     * cleared, device page back to the driver); the second hole gets its device page.
     */
    @Test
    void aCpuFaultThatFillsACollectedHoleFirst_winsAndTheMigrationDropsThatPage() {
        Kernel k = checkedKernel(13);
        AtomicInteger migrated = new AtomicInteger(-1);
        TestDevice[] dev = new TestDevice[1];
        MigrateHarness.spawn(k, 4, dev, (kk, self, mm, d, rec) -> {
            long a = mapAnon(mm, 2, RW);
            Completion collected = new Completion(kk, "collected");
            Completion cpuWrote = new Completion(kk, "cpu wrote");
            var device = kk.spawnKthread("device", t -> migrated.set(d.migrateToDevice(mm, a, 2, () -> {
                collected.complete();
                cpuWrote.waitForCompletion();
            })));
            collected.waitForCompletion();
            writeInt(kk, a, 77);
            cpuWrote.complete();
            device.join();
            assertEquals(1, migrated.get());
            long e = pte(mm, a);
            assertTrue(Pte.isPresent(e) && Pte.isWrite(e), "the CPU's page stays: " + Pte.toString(e));
            assertEquals(77, readInt(kk, a));
            assertTrue(Pte.isDevicePrivate(pte(mm, a + PAGE)));
            assertEquals(1, d.pagesFreed(), "the device page of the lost insert was freed");
            assertEquals(1, d.pgmap().pagesInUse());
            assertEquals(0, readInt(kk, a + PAGE));
        });
        assertClean(k.run());
        assertEquals(0, PhysMem.of(k).usedPages());
        assertEquals(0, dev[0].pgmap().pagesInUse());
    }

    @Test
    void makeDeviceExclusive_isRevokedByACpuAccess_withAClearInvalidationWithoutOwner() {
        MigrateHarness.Run run = inProcess(14, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 5);
            rec.clear();
            mm.mmapReadLock();
            ErrPtr<Page> got = DeviceExclusive.makeDeviceExclusive(mm, a + 12, GPU);
            mm.mmapReadUnlock();
            assertFalse(got.isErr(), got.toString());
            Page p = got.get();
            assertTrue(p.isLocked(), "returned locked");
            assertEquals(2, p.refcount(), "the mapping's reference and the caller's");
            assertEquals(1, p.mapcount(), "still mapped while exclusive");
            long e = pte(mm, a);
            assertTrue(Pte.isDeviceExclusive(e) && Pte.pfn(e) == p.pfn(), Pte.toString(e));
            assertEquals(List.of(line("MMU_NOTIFY_EXCLUSIVE", a, a + PAGE, GPU)), rec.events());
            p.unlock();
            p.put();

            rec.clear();
            assertEquals(5000, readInt(k, a), "the CPU access restores the mapping");
            assertEquals(List.of(line("MMU_NOTIFY_CLEAR", a, a + PAGE, null)), rec.events(),
                    "the device is told, by an event that is not its own");
            e = pte(mm, a);
            assertTrue(Pte.isPresent(e) && Pte.isWrite(e) && Pte.pfn(e) == p.pfn(), Pte.toString(e));
            assertEquals(1, p.refcount());
            assertEquals(1, p.mapcount());
            writeInt(k, a, 5001);
            assertEquals(5001, readInt(k, a));
        });
        assertNoLeak(run);
    }

    @Test
    void makeDeviceExclusive_faultsInWhatIsNeeded_andRefusesWhatItCannotUse() {
        MigrateHarness.Run run = inProcess(15, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 3, RW);
            fill(k, a, 1, 6);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            assertEquals(0, readInt(k, a + PAGE));
            long ro = mapAnon(mm, 1, Mmap.PROT_READ);
            long shared = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            mm.mmapReadLock();
            try {
                Page onDevice = exclusive(mm, a);
                assertEquals(1, dev.faultsToRam(), "the device page came back to system memory first");
                Page zero = exclusive(mm, a + PAGE);
                Page none = exclusive(mm, a + 2 * PAGE);
                for (Page p : new Page[] {onDevice, zero, none}) {
                    assertFalse(p.isDevicePrivate() || p.isZeroPage());
                    p.unlock();
                    p.put();
                }
                Page again = exclusive(mm, a + 2 * PAGE);
                assertEquals(none, again, "exclusive again: restored, then made exclusive again");
                again.unlock();
                again.put();
                assertEquals(-Errno.EFAULT, DeviceExclusive.makeDeviceExclusive(mm, ro, GPU).ptrErr(), "not writable");
                assertEquals(-Errno.EFAULT, DeviceExclusive.makeDeviceExclusive(mm, 0x1000, GPU).ptrErr(), "no VMA");
                assertEquals(-Errno.EOPNOTSUPP, DeviceExclusive.makeDeviceExclusive(mm, shared, GPU).ptrErr(),
                        "not anonymous");
            } finally {
                mm.mmapReadUnlock();
            }
            assertTrue(Pte.isDeviceExclusive(pte(mm, a)));
            assertEquals(6000, readInt(k, a));
        });
        assertEquals(1, PhysMem.of(run.k()).usedPages(), "only the shared page, kept by its tmpfs file");
        assertEquals(0, run.dev().pgmap().pagesInUse());
    }

    private static Page exclusive(MmStruct mm, long addr) {
        ErrPtr<Page> got = DeviceExclusive.makeDeviceExclusive(mm, addr, GPU);
        assertFalse(got.isErr(), got.toString());
        assertTrue(Pte.isDeviceExclusive(pte(mm, addr)));
        return got.get();
    }
}
