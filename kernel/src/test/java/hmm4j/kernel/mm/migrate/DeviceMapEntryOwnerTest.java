package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.devmap.DeviceMap;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.api.Test;

/**
 * Per-entry owners in a {@link DeviceMap}: a device whose table also maps a peer device's
 * private memory declares those entries with the peer's {@code pgmap->owner}; declared with
 * the map's own owner, the same entry names "a device-private page of another owner".
 */
class DeviceMapEntryOwnerTest {
    private static final Object NIC = new Object() {
        @Override
        public String toString() {
            return "nic";
        }
    };

    private static RunResult run(boolean declaresPeerOwner) {
        Kernel k = checkedKernel(1);
        TestDevice[] dev = new TestDevice[1];
        MigrateHarness.spawn(k, 2, dev, (kk, self, mm, gpu, rec) -> {
            long a = MigrateHarness.mapAnon(mm, 1, MigrateHarness.RW);
            MigrateHarness.writeInt(kk, a, 42);
            assertEquals(1, gpu.migrateToDevice(mm, a, 1, null));
            long pte = MigrateHarness.pte(mm, a);
            assertTrue(Pte.isDevicePrivate(pte), Pte.toString(pte));
            Page gpuPage = PhysMem.of(kk).pfnToPage(Pte.pfn(pte));
            DeviceMap nicTable = DeviceMap.create(mm, "nic->pt", NIC);
            if (declaresPeerOwner) {
                nicTable.map(a, gpuPage, false, gpu.owner());
            } else {
                nicTable.map(a, gpuPage, false);
            }
            nicTable.access(a, false);
            nicTable.close();
            gpu.migrateToSystem(mm, a, 1);
        });
        return k.run();
    }

    @Test
    void aPeerDevicesPageDeclaredWithItsOwner_isClean() {
        assertClean(run(true));
    }

    @Test
    void aPeerDevicesPageDeclaredWithTheMapsOwner_namesAPageOfAnotherOwner() {
        Failure.InvariantViolation v = assertSingleFailure(run(false), Failure.InvariantViolation.class);
        assertEquals(KernelRules.DEVMAP_NAMES_CPU_PAGE, v.rule());
        assertTrue(v.detail().contains("another owner"), v.detail());
    }
}
