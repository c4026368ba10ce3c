package hmm4j.scenarios;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_WRITE;

import hmm4j.drivers.dmirror.DmirrorDevice;
import hmm4j.drivers.dmirror.DmirrorFile;
import hmm4j.drivers.dmirror.DmirrorProtocol;
import hmm4j.drivers.dmirror.DmirrorRules;
import hmm4j.drivers.dmirror.HmmDmirrorCmd;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.OomKill;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.TaskBody;
import hmm4j.sim.rule.SimRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * S5: the test device's mirror protocol, correct and in each of
 * its protocol mutants. Every run is a process that maps and writes a few pages, opens
 * {@code /dev/hmm_dmirror0} (the device under test) and races a thread mirroring its memory
 * through the device against the threads and kernel threads that change that memory.
 *
 * <p>The correct device runs the {@link Workload#MIXED mixed} workload, where every path a
 * mutant changes is exercised at once, and must stay clean over the whole budget. Each mutant
 * runs the smallest workload in which its bug can manifest, so that every strategy (the
 * bounded DFS included) reaches the bad interleaving within the budget; run with the correct
 * device, each of those workloads is clean as well (checked by the scenario tests).
 */
public final class DmirrorScenarios {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;

    private DmirrorScenarios() {
    }

    /** The shapes of run, each building one run for a device-0 protocol. */
    public enum Workload {
        /**
         * Three pages, the third never written (a read fault maps the zero page). "device0":
         * READ, WRITE of page 0, READ, READ; "device1" migrates page 1 to device 1 (another
         * owner's MIGRATE invalidation); "cpu": mprotect(PROT_READ) of page 1, a write to page 2
         * (copy on write of the zero page), MADV_DONTNEED of page 2, munmap of page 0;
         * "oom_reaper": the OOM reaper reaps the process (non-blockable UNMAP invalidations of
         * its private VMAs, retried while refused; later faults there fail).
         */
        MIXED,
        /**
         * One page, never written; "device0" READs it (a read fault maps the zero page) while
         * "cpu" unmaps it: a fault commit races an invalidation of what it maps. An unpopulated
         * page makes the fault path longer than the commit, which is where the interleavings
         * of these races are.
         */
        UNMAP_RACE,
        /** One written page; "device0" READs it while "device1" migrates it to device 1 (the double_map shape). */
        DOUBLE_MAP,
        /** One written page; "device0" READs it while the kernel thread "oom_reaper" reaps the process. */
        OOM_REAP,
        /** Page 0 never written (zero page), page 1 read-only; "device0" READs both while "cpu" writes page 0. */
        READ_ONLY;

        /** Builds one run of this workload with device 0 running {@code protocol}. */
        public void setUp(Kernel k, DmirrorProtocol protocol) {
            setUp(k, protocol, false);
        }

        /**
         * Builds one run of this workload; with {@code thp} the pages the device works on are
         * the first pages of a 2 MiB-aligned {@code MADV_HUGEPAGE} range, so that they are a THP
         * (or the huge zero page) and every partial change of them splits its PMD first.
         */
        public void setUp(Kernel k, DmirrorProtocol protocol, boolean thp) {
            switch (this) {
                case MIXED -> mixed(k, protocol, thp);
                case UNMAP_RACE -> unmapRace(k, protocol, thp);
                case DOUBLE_MAP -> doubleMap(k, protocol, thp);
                case OOM_REAP -> oomReap(k, protocol, thp);
                case READ_ONLY -> readOnly(k, protocol, thp);
            }
        }
    }

    /** The correct device and one scenario per protocol mutant. */
    public static List<Scenario> all() {
        List<Scenario> all = new ArrayList<>();
        for (DmirrorProtocol p : DmirrorProtocol.values()) {
            Workload w = workload(p);
            all.add(new DesignScenario(id(p), title(p), expectation(p), k -> w.setUp(k, p)));
        }
        return List.copyOf(all);
    }

    /** {@code "S5-dmirror-correct"}, {@code "S5-dmirror-no-set-seq"}, ... */
    public static String id(DmirrorProtocol p) {
        return "S5-dmirror-" + p.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The workload of the scenario of {@code p}. */
    public static Workload workload(DmirrorProtocol p) {
        return switch (p) {
            case CORRECT -> Workload.MIXED;
            case COMMIT_WITHOUT_MUTEX, RETRY_BEFORE_MUTEX, SET_SEQ_OUTSIDE_MUTEX, NO_SET_SEQ, NO_CLEAR_IN_INVALIDATE,
                 READ_BEGIN_IN_CALLBACK -> Workload.UNMAP_RACE;
            case SKIP_ANY_MIGRATE -> Workload.DOUBLE_MAP;
            case BLOCK_IN_NONBLOCKABLE -> Workload.OOM_REAP;
            case WRITE_TAG_FROM_READONLY -> Workload.READ_ONLY;
        };
    }

    /**
     * Scenarios that are not in the catalogue: observations about lib/test_hmm.c itself that
     * the model found, with the correct protocol.
     * <ul>
     *   <li>{@code S5-dmirror-own-migration-skip}: the callback's skip of the device's own
     *       {@code MMU_NOTIFY_MIGRATE} events bumps no sequence, so a READ of one open file
     *       whose {@code hmm_range_fault} saw a device page, racing a CPU fault that migrates
     *       that page back ({@code migrate_to_ram} erases the entries, then the page goes back to
     *       the free list), commits the device page afterwards: a stale entry naming a free device
     *       page. The selftests never race a device fault with a CPU fault on the same page.</li>
     *   <li>{@code S5-dmirror-oom-reap-migration}: {@code dmirror_migrate_to_device} holds only the
     *       mmap read lock, and so does the OOM reaper: a reap between {@code migrate_vma_pages}
     *       and {@code dmirror_migrate_finalize_and_map} zaps the migration entry (its UNMAP
     *       invalidation finds nothing in the mirror yet), then the device maps the new device
     *       page with no sequence check, and {@code migrate_vma_finalize} finds no entry to
     *       turn into a device-private one: the mirror names a page the CPU does not map. The
     *       same holds for {@code MADV_DONTNEED} of the page, also under the read lock.</li>
     * </ul>
     */
    public static List<Scenario> observations() {
        return List.of(new DesignScenario("S5-dmirror-own-migration-skip",
                "test_hmm as merged: a device fault racing migrate_to_ram of its own device's page",
                Expectation.finds(DmirrorRules.NO_STALE_ENTRY), DmirrorScenarios::ownMigrationRace),
                new DesignScenario("S5-dmirror-oom-reap-migration",
                        "test_hmm as merged: the OOM reaper zaps a page between migrate_vma_pages and the device's map",
                        Expectation.finds(DmirrorRules.NO_STALE_ENTRY), DmirrorScenarios::oomReapMigrationRace));
    }

    private static String title(DmirrorProtocol p) {
        return switch (p) {
            case CORRECT -> "test_hmm mirror: read_begin, fault, mutex, read_retry, commit; invalidate under the mutex";
            case COMMIT_WITHOUT_MUTEX -> "test_hmm mirror mutant: read_retry and commit without the mutex";
            case RETRY_BEFORE_MUTEX -> "test_hmm mirror mutant: read_retry checked before taking the mutex";
            case SET_SEQ_OUTSIDE_MUTEX -> "test_hmm mirror mutant: set_seq after dropping the mutex";
            case NO_SET_SEQ -> "test_hmm mirror mutant: invalidate never calls set_seq";
            case NO_CLEAR_IN_INVALIDATE -> "test_hmm mirror mutant: invalidate bumps the sequence, keeps the entries";
            case BLOCK_IN_NONBLOCKABLE -> "test_hmm mirror mutant: sleeping mutex_lock in a non-blockable invalidate";
            case SKIP_ANY_MIGRATE -> "test_hmm mirror mutant: skips every MIGRATE invalidation, another device's too";
            case READ_BEGIN_IN_CALLBACK -> "test_hmm mirror mutant: mmu_interval_read_begin inside invalidate";
            case WRITE_TAG_FROM_READONLY -> "test_hmm mirror mutant: commit tags WRITE from a read-only pfn";
        };
    }

    private static Expectation expectation(DmirrorProtocol p) {
        return switch (p) {
            case CORRECT -> Expectation.clean().reaching(MmuIntervalNotifier.READ_BEGIN_WAITS,
                    MmuIntervalNotifier.READ_RETRY, MmuIntervalNotifier.NONBLOCK_EAGAIN, Hmm.RANGE_FAULT_BUSY,
                    Hmm.RANGE_FAULT_RESTART, DmirrorDevice.INVALIDATE_TRYLOCK_FAILED,
                    DmirrorDevice.OWN_MIGRATE_SKIPPED, DmirrorDevice.OTHER_MIGRATE_INVALIDATED);
            case BLOCK_IN_NONBLOCKABLE -> Expectation.finds(KernelRules.INTERVAL_NONBLOCK_SLEEP);
            case READ_BEGIN_IN_CALLBACK -> Expectation.finds(SimRules.RECURSIVE_LOCKING);
            default -> Expectation.finds(DmirrorRules.NO_STALE_ENTRY);
        };
    }

    // ---- the workloads ----

    /** The body of the process of a run: its mm and its first mapping of written pages. */
    private interface Body {
        void run(Kernel k, MmStruct mm, long base) throws Exception;
    }

    /**
     * Spawns "process": maps {@code pages} pages (the start of a THP range with {@code thp}),
     * writes the first {@code written}, runs {@code body}.
     */
    private static void process(Kernel k, boolean thp, int pages, int written, Body body) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = thp ? mapHuge(mm) : map(mm, pages);
            if (written > 0 && UserAccess.copyToUser(k, base, new byte[(int) (written * PAGE)]) != 0) {
                throw new IllegalStateException("the process could not write its pages");
            }
            body.run(k, mm, base);
        });
    }

    /** Starts the given threads of the calling process, then waits for all of them. */
    private static void runAndJoin(Kernel k, List<Task> tasks) {
        for (Task t : tasks) {
            t.join();
        }
    }

    private static Task thread(Kernel k, String name, TaskBody body) {
        return Clone.cloneVm(k, name, body);
    }

    private static void mixed(Kernel k, DmirrorProtocol protocol, boolean thp) {
        DmirrorDevice dev0 = DmirrorDevice.create(k, 0, protocol);
        DmirrorDevice dev1 = DmirrorDevice.create(k, 1);
        process(k, thp, 3, 2, (kk, mm, base) -> {
            long buf0 = map(mm, 3);
            long buf1 = map(mm, 1);
            DmirrorFile f0 = DmirrorFile.open(dev0);
            DmirrorFile f1 = DmirrorFile.open(dev1);
            Task device0 = thread(kk, "device0", t -> {
                ioctl(f0, HMM_DMIRROR_READ, base, buf0, 3);
                ioctl(f0, HMM_DMIRROR_WRITE, base, buf0, 1);
                ioctl(f0, HMM_DMIRROR_READ, base, buf0, 3);
                ioctl(f0, HMM_DMIRROR_READ, base, buf0, 3);
            });
            Task device1 = thread(kk, "device1", t -> ioctl(f1, HMM_DMIRROR_MIGRATE_TO_DEV, base + PAGE, buf1, 1));
            Task cpu = thread(kk, "cpu", t -> {
                Mprotect.mprotect(mm, base + PAGE, PAGE, Mmap.PROT_READ);
                UserAccess.copyToUser(kk, base + 2 * PAGE, new byte[] {1});
                Madvise.madvise(mm, base + 2 * PAGE, PAGE, Madvise.MADV_DONTNEED);
                Mmap.munmap(mm, base, PAGE);
            });
            // The reaper starts once device1's migration is over: a reap during test_hmm's
            // migration is a race of lib/test_hmm.c itself (observation S5-dmirror-oom-reap-migration).
            device1.join();
            runAndJoin(kk, List.of(device0, cpu, oomReaper(kk)));
            f0.close();
            f1.close();
        });
    }

    private static void unmapRace(Kernel k, DmirrorProtocol protocol, boolean thp) {
        DmirrorDevice dev0 = DmirrorDevice.create(k, 0, protocol);
        process(k, thp, 1, 0, (kk, mm, base) -> {
            long buf = map(mm, 1);
            DmirrorFile f0 = DmirrorFile.open(dev0);
            runAndJoin(kk, List.of(
                    thread(kk, "device0", t -> ioctl(f0, HMM_DMIRROR_READ, base, buf, 1)),
                    thread(kk, "cpu", t -> Mmap.munmap(mm, base, PAGE))));
            f0.close();
        });
    }

    private static void doubleMap(Kernel k, DmirrorProtocol protocol, boolean thp) {
        DmirrorDevice dev0 = DmirrorDevice.create(k, 0, protocol);
        DmirrorDevice dev1 = DmirrorDevice.create(k, 1);
        // On a THP, device 1 migrates the whole THP: with MIGRATE_VMA_SELECT_COMPOUND it goes as
        // one compound entry, without a split (and so without the split's CLEAR).
        int migrated = thp ? HugeMemory.HPAGE_PMD_NR : 1;
        process(k, thp, 1, 1, (kk, mm, base) -> {
            long buf0 = map(mm, 1);
            long buf1 = map(mm, migrated);
            DmirrorFile f0 = DmirrorFile.open(dev0);
            DmirrorFile f1 = DmirrorFile.open(dev1);
            runAndJoin(kk, List.of(
                    thread(kk, "device0", t -> ioctl(f0, HMM_DMIRROR_READ, base, buf0, 1)),
                    thread(kk, "device1", t -> ioctl(f1, HMM_DMIRROR_MIGRATE_TO_DEV, base, buf1, migrated))));
            f0.close();
            f1.close();
        });
    }

    private static void oomReap(Kernel k, DmirrorProtocol protocol, boolean thp) {
        DmirrorDevice dev0 = DmirrorDevice.create(k, 0, protocol);
        process(k, thp, 1, 1, (kk, mm, base) -> {
            long buf = map(mm, 1);
            DmirrorFile f0 = DmirrorFile.open(dev0);
            runAndJoin(kk, List.of(
                    thread(kk, "device0", t -> ioctl(f0, HMM_DMIRROR_READ, base, buf, 1)),
                    oomReaper(kk)));
            f0.close();
        });
    }

    private static void readOnly(Kernel k, DmirrorProtocol protocol, boolean thp) {
        DmirrorDevice dev0 = DmirrorDevice.create(k, 0, protocol);
        process(k, thp, 2, 0, (kk, mm, base) -> {
            long buf = map(mm, 2);
            if (UserAccess.copyToUser(kk, base + PAGE, new byte[] {1}) != 0
                    || Mprotect.mprotect(mm, base + PAGE, PAGE, Mmap.PROT_READ) != 0) {
                throw new IllegalStateException("the process could not prepare its read-only page");
            }
            DmirrorFile f0 = DmirrorFile.open(dev0);
            runAndJoin(kk, List.of(
                    thread(kk, "device0", t -> ioctl(f0, HMM_DMIRROR_READ, base, buf, 2)),
                    thread(kk, "cpu", t -> UserAccess.copyToUser(kk, base, new byte[] {2}))));
            f0.close();
        });
    }

    /** Device 0 migrates a written page to itself while the OOM reaper reaps the process. */
    static void oomReapMigrationRace(Kernel k) {
        DmirrorDevice dev = DmirrorDevice.create(k, 0);
        process(k, false, 1, 1, (kk, mm, a) -> {
            long buf = map(mm, 1);
            DmirrorFile f = DmirrorFile.open(dev);
            runAndJoin(kk, List.of(
                    thread(kk, "device", t -> ioctl(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 1)),
                    oomReaper(kk)));
            f.close();
        });
    }

    /** One file migrates a page to device 0; another file of device 0 reads it while the CPU touches it. */
    static void ownMigrationRace(Kernel k) {
        DmirrorDevice dev = DmirrorDevice.create(k, 0);
        process(k, false, 1, 1, (kk, mm, a) -> {
            long buf = map(mm, 1);
            DmirrorFile migrator = DmirrorFile.open(dev);
            DmirrorFile reader = DmirrorFile.open(dev);
            ioctl(migrator, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 1);
            runAndJoin(kk, List.of(
                    thread(kk, "device", t -> ioctl(reader, HMM_DMIRROR_READ, a, buf, 1)),
                    thread(kk, "cpu", t -> UserAccess.copyFromUser(kk, new byte[1], a))));
            reader.close();
            migrator.close();
        });
    }

    /**
     * Marks the calling process an OOM victim and starts the kernel thread "oom_reaper" that
     * reaps it ({@code oom_reap_task}: non-blockable UNMAP invalidations of its private VMAs,
     * retried while a notifier refuses).
     */
    private static Task oomReaper(Kernel k) {
        OomKill.OomVictim victim = OomKill.markOomVictim(k.current());
        return k.spawnKthread("oom_reaper", t -> OomKill.oomReapTask(victim));
    }

    /** A 2 MiB-aligned {@code MADV_HUGEPAGE} range inside a 4 MiB mapping. */
    private static long mapHuge(MmStruct mm) {
        long raw = map(mm, 2 * HugeMemory.HPAGE_PMD_NR);
        long aligned = (raw + HugeMemory.HPAGE_PMD_SIZE - 1) & Pte.PMD_MASK;
        if (Madvise.madvise(mm, aligned, HugeMemory.HPAGE_PMD_SIZE, Madvise.MADV_HUGEPAGE) != 0) {
            throw new IllegalStateException("madvise(MADV_HUGEPAGE) failed");
        }
        return aligned;
    }

    private static long map(MmStruct mm, int pages) {
        long addr = Mmap.mmapAnonymous(mm, pages * PAGE, RW);
        if (Errno.isError(addr)) {
            throw new IllegalStateException("mmap failed: " + addr);
        }
        return addr;
    }

    /** One command; its result is part of the run, not checked here (the checkers judge the run). */
    private static int ioctl(DmirrorFile f, int cmd, long addr, long ptr, long npages) {
        return f.ioctl(cmd, new HmmDmirrorCmd(addr, ptr, npages));
    }
}
