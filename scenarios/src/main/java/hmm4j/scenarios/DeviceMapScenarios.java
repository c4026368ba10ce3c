package hmm4j.scenarios;

import hmm4j.drivers.notifier.ProtectionMirror;
import hmm4j.drivers.notifier.ProtectionMirror.Ignores;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ClearRefs;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Ksm;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.Mempolicy;
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
 *
 * <p>D5 to D7 are the {@code MMU_NOTIFY_CLEAR} design of D4 against the other operations that
 * move or replace a page under a mapping: D5 a KSM merge ({@code madvise(MADV_MERGEABLE)}, then
 * one pass of a "ksmd" kernel thread; both pages hold the same bytes and the device writes the
 * bytes they already hold, so they stay identical whatever the interleaving, and
 * {@code write_protect_page}'s CLEAR of the first page always comes), D6
 * {@code mbind(MPOL_BIND, MPOL_MF_MOVE)} to node 1 and {@code migrate_pages(2)} back to node 0
 * ({@code try_to_migrate_one}'s CLEAR per page, twice), D7 {@code madvise(MADV_UNMERGEABLE)}
 * of two pages merged before the driver opened its mirror ({@code break_ksm}'s unsharing fault,
 * the CLEAR of {@code wp_page_copy}); in D7 the device holds a read-only entry of the KSM page
 * (a CLEAR spares no entry, read-only or not) and faults the second page while the process
 * unmerges. Each wrong design is found by devmap.no-entry-survives-invalidation at the end of
 * the first CLEAR over the entry it kept; each fix is clean and reaches
 * {@link ProtectionMirror#CLEAR_CLEARED}.
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
                        k -> whileWriting(k, Ignores.CLEAR, true, DeviceMapScenarios::compact)),
                new DesignScenario("D5-ignores-ksm-merge-clear",
                        "mirror whose invalidate ignores MMU_NOTIFY_CLEAR, device writes across a KSM merge by ksmd",
                        Expectation.finds(KernelRules.DEVMAP_NO_ENTRY_SURVIVES),
                        k -> whileWriting(k, Ignores.CLEAR, false, true, DeviceMapScenarios::ksmMerge)),
                new DesignScenario("D5-handles-ksm-merge-clear",
                        "mirror whose invalidate clears the range on every event, device writes across a KSM merge by "
                                + "ksmd",
                        Expectation.clean().reaching(ProtectionMirror.CLEAR_CLEARED),
                        k -> whileWriting(k, Ignores.CLEAR, true, true, DeviceMapScenarios::ksmMerge)),
                new DesignScenario("D6-ignores-mbind-migration-clear",
                        "mirror whose invalidate ignores MMU_NOTIFY_CLEAR, device writes across mbind(MPOL_MF_MOVE) "
                                + "and migrate_pages",
                        Expectation.finds(KernelRules.DEVMAP_NO_ENTRY_SURVIVES),
                        k -> whileWriting(k, Ignores.CLEAR, false, DeviceMapScenarios::mbindAndMigrateBack)),
                new DesignScenario("D6-handles-mbind-migration-clear",
                        "mirror whose invalidate clears the range on every event, device writes across "
                                + "mbind(MPOL_MF_MOVE) and migrate_pages",
                        Expectation.clean().reaching(ProtectionMirror.CLEAR_CLEARED),
                        k -> whileWriting(k, Ignores.CLEAR, true, DeviceMapScenarios::mbindAndMigrateBack)),
                new DesignScenario("D7-ignores-unmerge-clear",
                        "mirror whose invalidate ignores MMU_NOTIFY_CLEAR, device faults across MADV_UNMERGEABLE",
                        Expectation.finds(KernelRules.DEVMAP_NO_ENTRY_SURVIVES),
                        k -> unmergeWhileFaulting(k, false)),
                new DesignScenario("D7-handles-unmerge-clear",
                        "mirror whose invalidate clears the range on every event, device faults across "
                                + "MADV_UNMERGEABLE",
                        Expectation.clean().reaching(ProtectionMirror.CLEAR_CLEARED),
                        k -> unmergeWhileFaulting(k, true)));
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

    /** D5: {@code madvise(MADV_MERGEABLE)} here, then one merge pass of a "ksmd" kernel thread. */
    private static Runnable ksmMerge(Task self, MmStruct mm, long base, long length) {
        succeeded(Madvise.madvise(mm, base, length, Ksm.MADV_MERGEABLE));
        Kernel k = mm.kernel();
        Task ksmd = k.spawnKthread("ksmd", t -> Ksm.ksmdScan(k));
        return ksmd::join;
    }

    /** D6: {@code mbind} of the range to node 1 with {@code MPOL_MF_MOVE}, then {@code migrate_pages} from 1 to 0. */
    private static Runnable mbindAndMigrateBack(Task self, MmStruct mm, long base, long length) {
        succeeded(Mempolicy.mbind(mm, base, length, Mempolicy.MPOL_BIND, 1L << 1, Mempolicy.MPOL_MF_MOVE));
        // The count of pages not moved: a page the device is faulting at that moment may be refused.
        return succeeded(Mempolicy.migratePages2(mm, 1L << 1, 1L << 0, Mempolicy.MPOL_MF_MOVE) < 0 ? -1 : 0);
    }

    /** D1 to D4, D6: {@link #whileWriting(Kernel, Ignores, boolean, boolean, MmOperation)} on zeroed pages. */
    private static void whileWriting(Kernel k, Ignores design, boolean handles, MmOperation op) {
        whileWriting(k, design, handles, false, op);
    }

    /**
     * D1 to D6: the process maps two pages, the mirror of {@code design} faults the first in
     * writable, then the device writes both pages while the process runs {@code op}. With
     * {@code identical} both pages start with byte 1 and the device writes 1 to each (the pages
     * stay the same for KSM), else they start zeroed and the device writes 1 and 2.
     */
    private static void whileWriting(Kernel k, Ignores design, boolean handles, boolean identical, MmOperation op) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = mapTwoPages(k, mm, identical);
            ProtectionMirror mirror = ProtectionMirror.of(k, mm, base, 2 * PAGE, design, handles);
            if (mirror.fault(base, true) != 0) {
                throw new IllegalStateException("device fault failed");
            }
            var device = Clone.cloneVm(k, "device", t -> {
                for (int i = 0; i < 2; i++) {
                    int ret = mirror.deviceWrite(base + i * PAGE, (byte) (identical ? 1 : i + 1));
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

    /**
     * D7: the process maps two pages holding the same bytes, has them merged into one KSM page
     * ({@code MADV_MERGEABLE} and a ksmd pass, here), and only then opens the mirror, which
     * faults the first page in read-only; the device faults the second read-only while the
     * process unmerges both ({@code MADV_UNMERGEABLE}).
     */
    private static void unmergeWhileFaulting(Kernel k, boolean handles) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = mapTwoPages(k, mm, true);
            succeeded(Madvise.madvise(mm, base, 2 * PAGE, Ksm.MADV_MERGEABLE));
            if (Ksm.ksmdScan(k) != 1) {
                throw new IllegalStateException("the two pages were not merged");
            }
            ProtectionMirror mirror = ProtectionMirror.of(k, mm, base, 2 * PAGE, Ignores.CLEAR, handles);
            if (mirror.fault(base, false) != 0) {
                throw new IllegalStateException("device fault failed");
            }
            var device = Clone.cloneVm(k, "device", t -> {
                int ret = mirror.fault(base + PAGE, false);
                if (ret != 0) {
                    throw new IllegalStateException("device fault failed: " + ret);
                }
            });
            succeeded(Madvise.madvise(mm, base, 2 * PAGE, Ksm.MADV_UNMERGEABLE));
            device.join();
            mirror.release();
        });
    }

    /** Maps two private anonymous pages and fills them: zeroed, or (for KSM) byte 1 first in each. */
    private static long mapTwoPages(Kernel k, MmStruct mm, boolean identical) {
        long base = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
        byte[] fill = new byte[(int) (2 * PAGE)];
        if (identical) {
            fill[0] = 1;
            fill[(int) PAGE] = 1;
        }
        if (Errno.isError(base) || UserAccess.copyToUser(k, base, fill) != 0) {
            throw new IllegalStateException("process could not set up its mapping: " + base);
        }
        return base;
    }
}
