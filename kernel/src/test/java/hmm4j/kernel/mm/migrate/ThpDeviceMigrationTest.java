package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Device-private THP migration (Linux 6.19, mm/migrate_device.c and mm/hmm.c) seen from a
 * driver: what {@code hmm_range_fault} reports for a device-private PMD and for a PMD
 * migration entry, the notifier events of each step of a compound migration, and the
 * {@code folio_split} callbacks of the split path a failed huge allocation takes.
 */
class ThpDeviceMigrationTest {
    private static final long HPAGE = Pte.PMD_SIZE;
    private static final int NR = HugeMemory.HPAGE_PMD_NR;
    private static final long ORDER_9 = HmmPfn.hmmPfnFlagsOrder(HugeMemory.HPAGE_PMD_ORDER);
    private static final Object OTHER = "other-gpu";

    interface Body {
        void run(Kernel k, MmStruct mm, HugeTestDevice dev, MigrateHarness.Recorder rec, long a) throws Exception;
    }

    /**
     * Runs {@code body} in a process with a written, PMD-mapped THP at {@code a}, a device of
     * two huge folios and a recording notifier over everything; asserts a clean run.
     */
    static void withThp(Body body) {
        Kernel k = checkedKernel(1);
        HugeTestDevice dev = new HugeTestDevice(k, GPU, "gpu0", 2);
        MigrateHarness.Recorder rec = new MigrateHarness.Recorder();
        MmuIntervalNotifier sub = new MmuIntervalNotifier("recorder");
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, 0, Pte.TASK_SIZE, rec));
            long raw = mapAnon(mm, 2 * NR, RW);
            long a = (raw + HPAGE - 1) & Pte.PMD_MASK;
            assertEquals(0, Madvise.madvise(mm, a, HPAGE, Madvise.MADV_HUGEPAGE));
            fill(k, a, NR, 7);
            assertTrue(isLeaf(mm, a), "the write faulted in a THP");
            rec.clear();
            body.run(k, mm, dev, rec, a);
            sub.mmuIntervalNotifierRemove();
            finished.set(true);
        });
        assertClean(k.run());
        assertTrue(finished.get(), "the process body ran to its end");
    }

    static boolean isLeaf(MmStruct mm, long a) {
        mm.pageTableLock().lock();
        try {
            return mm.pgd("test").isPmdLeaf(a);
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    static long pmd(MmStruct mm, long a) {
        mm.pageTableLock().lock();
        try {
            PageTable pt = mm.pgd("test");
            return pt.isPmdLeaf(a) ? pt.pmdLeaf(a) : 0;
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    /** {@code migrate_vma_setup} of the THP at {@code a} as one compound entry (PMD migration entry). */
    private static MigrateVma compoundSetup(MmStruct mm, long a, long[] src) {
        mm.mmapReadLock();
        try {
            MigrateVma args = new MigrateVma(mm, mm.vmaLookup(a), a, a + HPAGE, src, new long[NR], GPU,
                    MigrateVma.MIGRATE_VMA_SELECT_SYSTEM | MigrateVma.MIGRATE_VMA_SELECT_COMPOUND);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            return args;
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** One hmm_range_fault attempt over [start, start + n pages) with the given owner and default flags. */
    private static long[] rangeFault(MmStruct mm, long start, int n, long defaultFlags, Object owner, int[] ret) {
        MmuIntervalNotifier mirror = new MmuIntervalNotifier("mirror");
        assertEquals(0, mirror.mmuIntervalNotifierInsert(mm, start, n * PAGE, (s, r, seq) -> {
            s.mmuIntervalSetSeq(seq);
            return true;
        }));
        long[] pfns = new long[n];
        HmmRange range = new HmmRange(mirror, start, start + n * PAGE, pfns, defaultFlags, 0, owner);
        do {
            // The driver loop: a fault that migrates sends an invalidation, the call says -EBUSY.
            range.setNotifierSeq(mirror.mmuIntervalReadBegin());
            mm.mmapReadLock();
            try {
                ret[0] = Hmm.hmmRangeFault(range);
            } finally {
                mm.mmapReadUnlock();
            }
        } while (ret[0] == -Errno.EBUSY);
        mirror.mmuIntervalNotifierRemove();
        return pfns;
    }

    @Test
    void compoundMigrationToTheDevice_isOneDevicePrivatePmd_andHmmRangeFaultOfItsOwnerReportsOrder9WithoutFaulting() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND),
                    "one compound entry migrated");
            long pmd = pmd(mm, a);
            assertTrue(Pte.isDevicePrivate(pmd) && Pte.isHuge(pmd), "a device-private PMD leaf");
            long head = Pte.pfn(pmd);
            assertEquals(HugeMemory.HPAGE_PMD_ORDER, dev.pgmap().folioOrder(PhysMem.of(k).pfnToPage(head)));
            assertEquals(List.of("MMU_NOTIFY_MIGRATE [" + Long.toHexString(a) + ", " + Long.toHexString(a + HPAGE)
                    + ") owner=gpu"), rec.events(), "collect and unmap: one MIGRATE of the 2 MiB, owned by the device");
            rec.clear();

            int[] ret = new int[1];
            long[] pfns = rangeFault(mm, a, NR, HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE, GPU, ret);
            assertEquals(0, ret[0]);
            for (int i = 0; i < NR; i++) {
                assertEquals((head + i) | HmmPfn.HMM_PFN_VALID | HmmPfn.HMM_PFN_WRITE | ORDER_9, pfns[i], "page " + i);
                assertEquals(9, HmmPfn.hmmPfnToMapOrder(pfns[i]));
            }
            assertTrue(Pte.isDevicePrivate(pmd(mm, a)), "the owner's walk faults nothing back");
            assertEquals(List.of(), rec.events());

            // A range inside the PMD: the model reports head + index (see docs/kernel-mapping.md).
            long[] part = rangeFault(mm, a + 100 * PAGE, 16, HmmPfn.HMM_PFN_REQ_FAULT, GPU, ret);
            assertEquals(0, ret[0]);
            assertEquals((head + 100) | HmmPfn.HMM_PFN_VALID | HmmPfn.HMM_PFN_WRITE | ORDER_9, part[0]);

            // Another owner without a fault request: HMM_PFN_ERROR, nothing migrates.
            long[] other = rangeFault(mm, a, NR, 0, OTHER, ret);
            assertEquals(0, ret[0]);
            for (long p : other) {
                assertEquals(HmmPfn.HMM_PFN_ERROR, p);
            }
            assertTrue(Pte.isDevicePrivate(pmd(mm, a)));

            // Another owner asking for the pages: the fault's migrate_to_ram brings the whole THP back.
            long[] back = rangeFault(mm, a, NR, HmmPfn.HMM_PFN_REQ_FAULT, OTHER, ret);
            assertEquals(0, ret[0]);
            long sys = pmd(mm, a);
            assertTrue(Pte.isPresent(sys) && Pte.isHuge(sys), "a present PMD again: " + Long.toHexString(sys));
            assertEquals(Pte.pfn(sys) | HmmPfn.HMM_PFN_VALID | HmmPfn.HMM_PFN_WRITE | ORDER_9, back[0]);
            assertEquals(9, HmmPfn.hmmPfnToMapOrder(back[NR - 1]));
            check(k, a, NR, 7);
            assertEquals(List.of("MMU_NOTIFY_MIGRATE [" + Long.toHexString(a) + ", " + Long.toHexString(a + HPAGE)
                    + ") owner=gpu"), rec.events(), "migrate_to_ram: one MIGRATE of the 2 MiB, owned by the device");
            assertEquals(List.of("0x" + Long.toHexString(head) + " order 9"), dev.folioFrees,
                    "the device folio is freed whole");
            assertEquals(List.of(), dev.splits);
        });
    }

    @Test
    void aPmdMigrationEntry_readsAsNoPfnWithoutAFaultRequest() {
        withThp((k, mm, dev, rec, a) -> {
            long[] src = new long[NR];
            MigrateVma args = compoundSetup(mm, a, src);
            assertTrue((src[0] & MigratePfn.MIGRATE_PFN_COMPOUND) != 0, "collected as one compound entry");
            for (int i = 1; i < NR; i++) {
                assertEquals(0, src[i], "the 511 entries after a compound one are 0");
            }
            assertTrue(Pte.isMigration(pmd(mm, a)), "a PMD migration entry");
            int[] ret = new int[1];
            long[] pfns = rangeFault(mm, a, NR, 0, GPU, ret);
            assertEquals(0, ret[0]);
            for (long p : pfns) {
                assertEquals(0, p, "is_pmd_migration_entry without a request: hmm_pfns_fill 0");
            }
            // No destination: the migration is abandoned and the THP restored as it was.
            mm.mmapReadLock();
            try {
                MigrateDevice.migrateVmaPages(args);
                MigrateDevice.migrateVmaFinalize(args);
            } finally {
                mm.mmapReadUnlock();
            }
            long pmd = pmd(mm, a);
            assertTrue(Pte.isPresent(pmd) && Pte.isHuge(pmd) && Pte.isWrite(pmd), "the THP is mapped again");
            check(k, a, NR, 7);
        });
    }

    @Test
    void aPmdMigrationEntry_withAFaultRequest_waitsForTheMigration_thenRestartsAndReportsTheThp() {
        withThp((k, mm, dev, rec, a) -> {
            long[] src = new long[NR];
            MigrateVma args = compoundSetup(mm, a, src);
            assertTrue(Pte.isMigration(pmd(mm, a)), "a PMD migration entry");
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            int[] ret = new int[1];
            long[][] got = new long[1][];
            var gpu = Clone.cloneVm(k, "gpu", t -> {
                got[0] = rangeFault(mm, a, NR, HmmPfn.HMM_PFN_REQ_FAULT, OTHER, ret);
                order.add("fault done");
            });
            k.runtime().sleep(1_000_000);
            order.add("finalize");
            mm.mmapReadLock();
            try {
                MigrateDevice.migrateVmaPages(args);
                MigrateDevice.migrateVmaFinalize(args);
            } finally {
                mm.mmapReadUnlock();
            }
            gpu.join();
            assertEquals(List.of("finalize", "fault done"), order,
                    "is_pmd_migration_entry with a request: pmd_migration_entry_wait, then the walk restarts");
            assertEquals(0, ret[0]);
            long head = Pte.pfn(pmd(mm, a));
            for (int i = 0; i < NR; i++) {
                long p = got[0][i];
                assertTrue((p & HmmPfn.HMM_PFN_VALID) != 0 && (p & HmmPfn.HMM_PFN_WRITE) != 0, "page " + i);
                assertEquals(ORDER_9, p & HmmPfn.hmmPfnFlagsOrder(0x1f), "order 9 for page " + i);
                assertEquals(head + i, p & ~HmmPfn.HMM_PFN_FLAGS, "the restored THP's page " + i);
            }
            check(k, a, NR, 7);
        });
    }

    @Test
    void failedHugeDeviceAllocation_splitsTheSystemThp_inOneClear_andTheDataGoesAsBasePages() {
        withThp((k, mm, dev, rec, a) -> {
            dev.failNextHugeAlloc();
            assertEquals(NR, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND), "512 base entries");
            assertFalse(isLeaf(mm, a), "the THP was split");
            for (int i = 0; i < NR; i += 97) {
                assertTrue(Pte.isDevicePrivate(MigrateHarness.pte(mm, a + i * PAGE)), "page " + i);
            }
            String range = " [" + Long.toHexString(a) + ", " + Long.toHexString(a + HPAGE) + ")";
            assertEquals(List.of("MMU_NOTIFY_MIGRATE" + range + " owner=gpu", "MMU_NOTIFY_CLEAR" + range + " owner=null"),
                    rec.events(), "the MIGRATE of collection, then the split of the unmapped folio's PMD (CLEAR, no owner)");
            assertEquals(List.of(), dev.splits, "a system THP has no driver callback");
        });
    }

    @Test
    void failedHugeSystemAllocation_splitsTheDeviceFolio_throughFolioSplit_forEveryTailThenReset() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(1, dev.toDevice(mm, a, NR, MigrateVma.MIGRATE_VMA_SELECT_COMPOUND));
            long head = Pte.pfn(pmd(mm, a));
            rec.clear();
            dev.failNextHugeAlloc();
            assertEquals(NR, dev.toSystem(mm, a, NR), "512 base pages back");

            List<String> expected = new ArrayList<>();
            for (int i = 1; i < NR; i++) {
                expected.add("+" + i);
            }
            expected.add("reset");
            assertEquals(expected, dev.splits, "folio_split once per new folio, then once for the head");
            assertEquals(0, dev.pgmap().folioOrder(PhysMem.of(k).pfnToPage(head)), "the head is an order-0 folio now");
            assertEquals(List.of(), dev.folioFrees, "no large folio is freed");
            assertEquals(NR, dev.pagesFreed.size(), "every former page of the folio is freed alone (page_free)");
            List<Long> freed = new ArrayList<>();
            dev.pagesFreed.forEach(p -> freed.add(p.pfn() - head));
            Collections.sort(freed);
            assertEquals(0L, freed.get(0));
            assertEquals((long) NR - 1, freed.get(NR - 1));

            assertFalse(isLeaf(mm, a), "mapped by 512 PTEs");
            long first = MigrateHarness.pte(mm, a);
            assertTrue(Pte.isPresent(first) && !Pte.isHuge(first));
            check(k, a, NR, 7);
            String range = " [" + Long.toHexString(a) + ", " + Long.toHexString(a + HPAGE) + ")";
            assertEquals(List.of("MMU_NOTIFY_MIGRATE" + range + " owner=gpu", "MMU_NOTIFY_CLEAR" + range + " owner=null"),
                    rec.events(), "MIGRATE of the collection, then the split's CLEAR of the 2 MiB");
        });
    }

    @Test
    void withoutSelectCompound_theThpIsSplitAtCollection_insideTheMigrateRange() {
        withThp((k, mm, dev, rec, a) -> {
            assertEquals(NR, dev.toDevice(mm, a, NR, 0), "collected per page");
            String range = " [" + Long.toHexString(a) + ", " + Long.toHexString(a + HPAGE) + ")";
            List<String> events = rec.events();
            assertTrue(events.contains("MMU_NOTIFY_CLEAR" + range + " owner=null"), events.toString());
            assertTrue(events.contains("MMU_NOTIFY_MIGRATE" + range + " owner=gpu"), events.toString());
            assertFalse(isLeaf(mm, a));
        });
    }
}
