package hmm4j.scenarios;

import hmm4j.drivers.notifier.ProtectionMirror;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.List;

/**
 * D1: a small mirroring driver checked by the device-mapping checker
 * ({@link hmm4j.kernel.mm.devmap.DeviceMap}). The process maps two pages, the driver faults
 * the first into its device writable, then the device writes both pages while the process
 * forks (fork write-protects the parent's private pages for copy-on-write with an
 * {@code MMU_NOTIFY_PROTECTION_PAGE} invalidation) and the child reads them. The driver that
 * ignores protection events keeps its writable entry (the CVE-2020-29374 class); the driver
 * that handles them is clean.
 */
public final class DeviceMapScenarios {
    private static final long PAGE = Pte.PAGE_SIZE;

    private DeviceMapScenarios() {
    }

    public static List<Scenario> all() {
        return List.of(
                new DesignScenario("D1-ignores-protection",
                        "mirror whose invalidate ignores protection events, device writes across fork",
                        Expectation.finds(KernelRules.DEVMAP_NO_ENTRY_SURVIVES), k -> forkWhileWriting(k, false)),
                new DesignScenario("D1-handles-protection",
                        "mirror whose invalidate clears the range on every event, device writes across fork",
                        Expectation.clean().reaching(ProtectionMirror.PROTECTION_CLEARED),
                        k -> forkWhileWriting(k, true)));
    }

    private static void forkWhileWriting(Kernel k, boolean handlesProtection) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (2 * PAGE)]) != 0) {
                throw new IllegalStateException("process could not set up its mapping: " + base);
            }
            ProtectionMirror mirror = handlesProtection
                    ? ProtectionMirror.handlingProtection(k, mm, base, 2 * PAGE)
                    : ProtectionMirror.ignoringProtection(k, mm, base, 2 * PAGE);
            if (mirror.fault(base, true) != 0) {
                throw new IllegalStateException("device fault failed");
            }
            var device = Clone.cloneVm(k, "device", t -> {
                for (int i = 0; i < 2; i++) {
                    int ret = mirror.deviceWrite(base + i * PAGE, (byte) (i + 1));
                    if (ret != 0) {
                        throw new IllegalStateException("device write failed: " + ret);
                    }
                }
            });
            var child = Process.fork(self, "child", c -> UserAccess.copyFromUser(k, new byte[1], base));
            device.join();
            child.join();
            mirror.release();
        });
    }
}
