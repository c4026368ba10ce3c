package hmm4j.scenarios;

import hmm4j.drivers.notifier.ProtectionMirror;
import hmm4j.drivers.notifier.ProtectionMirror.Ignores;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ClearRefs;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MigratePages;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.NumaBalancing;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import java.util.List;

/**
 * D1: a small mirroring driver checked by the device-mapping checker
 * ({@link hmm4j.kernel.mm.devmap.DeviceMap}). The process maps two pages, the driver faults
 * the first into its device writable, then the device writes both pages while the process
 * forks (fork write-protects the parent's private pages for copy-on-write with an
 * {@code MMU_NOTIFY_PROTECTION_PAGE} invalidation) and the child reads them. The driver that
 * ignores protection events keeps its writable entry (the CVE-2020-29374 class); the driver
 * that handles them is clean.
 *
 * <p>D2 to D4 are the same driver and process with another operation in place of fork, each
 * against the wrong design that ignores its event: D2 {@code clear_refs} 4 (one
 * {@code MMU_NOTIFY_SOFT_DIRTY} over the whole address space; the device's writes escape the
 * soft-dirty tracker), D3 a NUMA-balancing scan ({@code MMU_NOTIFY_PROTECTION_VMA}; the
 * writable device entry of a prot-none hinting entry), D4 compaction ({@code MMU_NOTIFY_CLEAR}
 * per migrated page; the device entry keeps naming the freed source page). Each wrong design is
 * found by devmap.no-entry-survives-invalidation at the end of that invalidation; each fix
 * (the range cleared on every event) is clean and reaches its clearing mark.
 */
public final class DeviceMapScenarios {
    private static final long PAGE = Pte.PAGE_SIZE;

    private DeviceMapScenarios() {
    }

    public static List<Scenario> all() {
        return List.of(
                new DesignScenario("D1-ignores-protection",
                        "mirror whose invalidate ignores protection events, device writes across fork",
                        Expectation.finds(KernelRules.DEVMAP_NO_ENTRY_SURVIVES),
                        k -> whileWriting(k, Ignores.PROTECTION, false, DeviceMapScenarios::forkReadingChild)),
                new DesignScenario("D1-handles-protection",
                        "mirror whose invalidate clears the range on every event, device writes across fork",
                        Expectation.clean().reaching(ProtectionMirror.PROTECTION_CLEARED),
                        k -> whileWriting(k, Ignores.PROTECTION, true, DeviceMapScenarios::forkReadingChild)),
                new DesignScenario("D2-ignores-soft-dirty",
                        "mirror whose invalidate ignores soft-dirty events, device writes across clear_refs 4",
                        Expectation.finds(KernelRules.DEVMAP_NO_ENTRY_SURVIVES),
                        k -> whileWriting(k, Ignores.SOFT_DIRTY, false, DeviceMapScenarios::clearSoftDirty)),
                new DesignScenario("D2-handles-soft-dirty",
                        "mirror whose invalidate clears the range on every event, device writes across clear_refs 4",
                        Expectation.clean().reaching(ProtectionMirror.SOFT_DIRTY_CLEARED),
                        k -> whileWriting(k, Ignores.SOFT_DIRTY, true, DeviceMapScenarios::clearSoftDirty)),
                new DesignScenario("D3-ignores-numa-hinting",
                        "mirror whose invalidate ignores protection events, device writes across a NUMA-balancing scan",
                        Expectation.finds(KernelRules.DEVMAP_NO_ENTRY_SURVIVES),
                        k -> whileWriting(k, Ignores.PROTECTION, false, DeviceMapScenarios::numaScan)),
                new DesignScenario("D3-handles-numa-hinting",
                        "mirror whose invalidate clears the range on every event, device writes across a NUMA-balancing "
                                + "scan",
                        Expectation.clean().reaching(ProtectionMirror.PROTECTION_CLEARED),
                        k -> whileWriting(k, Ignores.PROTECTION, true, DeviceMapScenarios::numaScan)),
                new DesignScenario("D4-ignores-migration-clear",
                        "mirror whose invalidate ignores MMU_NOTIFY_CLEAR, device writes across compaction",
                        Expectation.finds(KernelRules.DEVMAP_NO_ENTRY_SURVIVES),
                        k -> whileWriting(k, Ignores.CLEAR, false, DeviceMapScenarios::compact)),
                new DesignScenario("D4-handles-migration-clear",
                        "mirror whose invalidate clears the range on every event, device writes across compaction",
                        Expectation.clean().reaching(ProtectionMirror.CLEAR_CLEARED),
                        k -> whileWriting(k, Ignores.CLEAR, true, DeviceMapScenarios::compact)));
    }

    /**
     * What the process does on its own mm while the device writes (D1 to D4); it returns what
     * is left to do once the device is done (D1: join the forked child).
     */
    private interface MmOperation {
        Runnable run(Task self, MmStruct mm, long base, long length);
    }

    private static final Runnable NOTHING_LEFT = () -> { };

    private static Runnable succeeded(long ret) {
        if (ret != 0) {
            throw new IllegalStateException("operation failed: " + ret);
        }
        return NOTHING_LEFT;
    }

    private static Runnable forkReadingChild(Task self, MmStruct mm, long base, long length) {
        Kernel k = mm.kernel();
        Task child = Process.fork(self, "child", c -> UserAccess.copyFromUser(k, new byte[1], base));
        return child::join;
    }

    private static Runnable clearSoftDirty(Task self, MmStruct mm, long base, long length) {
        return succeeded(ClearRefs.clearRefsWrite(mm, ClearRefs.CLEAR_REFS_SOFT_DIRTY));
    }

    private static Runnable numaScan(Task self, MmStruct mm, long base, long length) {
        return succeeded(NumaBalancing.taskNumaWork(mm, base, base + length) < 0 ? -1 : 0);
    }

    private static Runnable compact(Task self, MmStruct mm, long base, long length) {
        return succeeded(MigratePages.compactRange(mm, base, base + length) >= 0 ? 0 : -1);
    }

    /**
     * D1 to D4: the process maps two pages, the mirror of {@code design} faults the first in
     * writable, then the device writes both pages while the process runs {@code op}.
     */
    private static void whileWriting(Kernel k, Ignores design, boolean handles, MmOperation op) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (2 * PAGE)]) != 0) {
                throw new IllegalStateException("process could not set up its mapping: " + base);
            }
            ProtectionMirror mirror = ProtectionMirror.of(k, mm, base, 2 * PAGE, design, handles);
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
            Runnable left = op.run(self, mm, base, 2 * PAGE);
            device.join();
            left.run();
            mirror.release();
        });
    }
}
