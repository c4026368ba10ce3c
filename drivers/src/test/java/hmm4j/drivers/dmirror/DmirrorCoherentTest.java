package hmm4j.drivers.dmirror;

import static hmm4j.drivers.dmirror.DmirrorHarness.check;
import static hmm4j.drivers.dmirror.DmirrorHarness.cmd;
import static hmm4j.drivers.dmirror.DmirrorHarness.fill;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_SYS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_PROT_WRITE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.testkit.UserMemory.pte;
import static hmm4j.testkit.UserMemory.readBytes;
import static hmm4j.testkit.UserProcess.inProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.migrate.ZoneDevice;
import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

/**
 * The coherent devices (minors 2 and 3): MIGRATE_TO_DEV maps coherent pages with present
 * entries, the snapshot reports them COHERENT_LOCAL or COHERENT_REMOTE, MIGRATE_TO_SYS selects
 * them with {@code MIGRATE_VMA_SELECT_DEVICE_COHERENT}, and the release evicts them.
 */
class DmirrorCoherentTest {

    private static Page pageAt(Kernel k, MmStruct mm, long addr) {
        return PhysMem.of(k).pfnToPage(Pte.pfn(pte(mm, addr)));
    }

    @Test
    void minorsTwoAndThreeAreCoherent_andFourDoesNotExist() {
        inProcess(91, (k, self, mm) -> {
            assertFalse(DmirrorDevice.create(k, 0).isCoherent());
            assertFalse(DmirrorDevice.create(k, 1).isCoherent());
            assertTrue(DmirrorDevice.create(k, 2).isCoherent());
            assertTrue(DmirrorDevice.create(k, 3).isCoherent());
            assertThrows(IllegalArgumentException.class, () -> DmirrorDevice.create(k, 4));
        });
    }

    @Test
    void migrateToACoherentDevice_mapsPresentEntries_andTheSnapshotSaysLocalOrRemote() {
        inProcess(92, (k, self, mm) -> {
            DmirrorDevice dev2 = DmirrorDevice.create(k, 2);
            DmirrorFile f2 = DmirrorFile.open(dev2);
            DmirrorFile f3 = DmirrorFile.open(DmirrorDevice.create(k, 3));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 4);
            assertEquals(2, cmd(f2, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0).cpages);
            for (int i = 0; i < 2; i++) {
                assertTrue(Pte.isPresent(pte(mm, a + i * PAGE)), "a present entry");
                Page p = pageAt(k, mm, a + i * PAGE);
                assertTrue(ZoneDevice.isDeviceCoherentPage(p));
                assertSame(dev2, p.pgmap().owner());
            }
            check(k, a, 2, 4);
            assertTrue(ZoneDevice.isDeviceCoherentPage(pageAt(k, mm, a)), "the CPU read in place, no migration");
            long out = mapAnon(mm, 1, RW);
            cmd(f2, HMM_DMIRROR_SNAPSHOT, a, out, 2, 0);
            byte local = (byte) (HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL | HMM_DMIRROR_PROT_WRITE);
            byte remote = (byte) (HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE | HMM_DMIRROR_PROT_WRITE);
            assertEquals(local, readBytes(k, out, 2)[0]);
            assertEquals(local, readBytes(k, out, 2)[1]);
            cmd(f3, HMM_DMIRROR_SNAPSHOT, a, out, 2, 0);
            assertEquals(remote, readBytes(k, out, 2)[0]);
            assertEquals(-hmm4j.kernel.mm.Errno.ENOENT, f3.ioctl(HMM_DMIRROR_MIGRATE_TO_DEV,
                    new HmmDmirrorCmd(a, buf, 2)), "another coherent device's pages are not system memory");
            assertEquals(0, cmd(f3, HMM_DMIRROR_MIGRATE_TO_SYS, a, buf, 2, 0).cpages, "nor its own");
            assertEquals(2, cmd(f2, HMM_DMIRROR_MIGRATE_TO_SYS, a, buf, 2, 0).cpages);
            assertFalse(ZoneDevice.isZoneDevicePage(pageAt(k, mm, a)));
            check(k, a, 2, 4);
            f3.close();
            f2.close();
        });
    }

    @Test
    void theReleaseEvictsCoherentPages() {
        inProcess(93, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 2);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 3, RW);
            long buf = mapAnon(mm, 3, RW);
            fill(k, a, 3, 9);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 3, 0);
            assertEquals(0, f.close());
            for (int i = 0; i < 3; i++) {
                assertFalse(ZoneDevice.isZoneDevicePage(pageAt(k, mm, a + i * PAGE)), "page " + i + " evicted");
            }
            assertEquals(3, dev.cfree());
            check(k, a, 3, 9);
        });
    }
}
