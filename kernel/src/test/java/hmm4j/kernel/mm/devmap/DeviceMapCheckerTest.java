package hmm4j.kernel.mm.devmap;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.devmap.DeviceMapChecker.Mismatch;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.Rule;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The three device-mapping rules, each found on a wrong declaration and clean on the right
 * one, at each of the checker's points: the end of an invalidation, a declared device access
 * and quiescence.
 */
class DeviceMapCheckerTest {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final Object OWNER = new Object();

    /** A test body: the kernel, the mm, a 4-page mapping (touched) and the device map. */
    private interface Body {
        void run(Kernel k, MmStruct mm, long base, DeviceMap map) throws Exception;
    }

    private static RunResult run(int prot, Body body) {
        Kernel k = checkedKernel(1);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 4 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (4 * PAGE)]) != 0) {
                throw new IllegalStateException("set-up failed: " + base);
            }
            if (prot != (Mmap.PROT_READ | Mmap.PROT_WRITE) && Mprotect.mprotect(mm, base, 4 * PAGE, prot) != 0) {
                throw new IllegalStateException("mprotect failed");
            }
            body.run(k, mm, base, DeviceMap.create(mm, "dev->pt", OWNER));
        });
        return k.run();
    }

    private static RunResult run(Body body) {
        return run(Mmap.PROT_READ | Mmap.PROT_WRITE, body);
    }

    /** The page the CPU maps at {@code addr} now. */
    private static Page cpuPage(Kernel k, MmStruct mm, long addr) {
        return PhysMem.of(k).pfnToPage(Pte.pfn(mm.ptePeek(addr)));
    }

    /** An interval subscription over the mapping whose callback clears the device entries. */
    private static MmuIntervalNotifier mirror(MmStruct mm, long base, DeviceMap map) {
        MmuIntervalNotifier notifier = new MmuIntervalNotifier("dev->notifier");
        notifier.mmuIntervalNotifierInsert(mm, base, 4 * PAGE, (sub, range, seq) -> {
            sub.mmuIntervalSetSeq(seq);
            map.unmapRange(range.start(), range.end());
            return true;
        });
        return notifier;
    }

    private static Failure.InvariantViolation single(RunResult r, Rule rule) {
        assertEquals(1, r.failures().size(), () -> r.failures().toString());
        Failure.InvariantViolation v = (Failure.InvariantViolation) r.failures().get(0);
        assertEquals(rule, v.rule(), v::detail);
        return v;
    }

    @Test
    void anEntryLeftByAnUnmap_isFoundAtTheEndOfTheInvalidation_withItsEventRangeAndCommitSite() {
        var r = run((k, mm, base, map) -> {
            map.map(base + PAGE, cpuPage(k, mm, base + PAGE), false);
            Mmap.munmap(mm, base, 2 * PAGE);
            throw new AssertionError("the end of the munmap's invalidation must report");
        });
        var v = single(r, KernelRules.DEVMAP_NO_ENTRY_SURVIVES);
        assertTrue(v.detail().contains("dev->pt: device entry 0x") && v.detail().contains("(read)"), v.detail());
        assertTrue(v.detail().contains("survived the invalidation MMU_NOTIFY_UNMAP"), v.detail());
        assertTrue(v.detail().contains("committed at proc @ step"), v.detail());
        assertTrue(v.detail().contains("DeviceMapCheckerTest"), v.detail());
        assertTrue(v.detail().contains("the invalidation started at"), v.detail());
    }

    @Test
    void entriesClearedByTheCallback_areClean() {
        assertClean(run((k, mm, base, map) -> {
            MmuIntervalNotifier notifier = mirror(mm, base, map);
            for (int i = 0; i < 4; i++) {
                map.map(base + i * PAGE, cpuPage(k, mm, base + i * PAGE), true);
            }
            Mmap.munmap(mm, base, 2 * PAGE);
            assertNull(map.entry(base));
            assertEquals(2, map.size());
            map.access(base + 3 * PAGE, true);
            notifier.mmuIntervalNotifierRemove();
            map.close();
        }));
    }

    @Test
    void anEntryOutsideTheInvalidatedRange_isNotJudgedBySurvival() {
        assertClean(run((k, mm, base, map) -> {
            map.map(base + 3 * PAGE, cpuPage(k, mm, base + 3 * PAGE), true);
            Mmap.munmap(mm, base, PAGE);
            map.close();
        }));
    }

    @Test
    void aWritableEntryThroughAProtectionChange_isFound_aReadOnlyOneMayOutliveIt() {
        var r = run((k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base), true);
            Mprotect.mprotect(mm, base, PAGE, Mmap.PROT_READ);
        });
        var v = single(r, KernelRules.DEVMAP_NO_ENTRY_SURVIVES);
        assertTrue(v.detail().contains("MMU_NOTIFY_PROTECTION_VMA") && v.detail().contains("(write)"), v.detail());

        assertClean(run((k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base), false);
            Mprotect.mprotect(mm, base, PAGE, Mmap.PROT_READ);
            map.access(base, false);
            map.close();
        }));
    }

    @Test
    void aReadOnlyEntryThroughProtNone_isFoundAsNamingNoCpuPage() {
        var r = run((k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base), false);
            Mprotect.mprotect(mm, base, PAGE, Mmap.PROT_NONE);
        });
        var v = single(r, KernelRules.DEVMAP_NAMES_CPU_PAGE);
        assertTrue(v.detail().contains("after the invalidation MMU_NOTIFY_PROTECTION_VMA")
                && v.detail().contains("names a page the CPU no longer maps there"), v.detail());
    }

    @Test
    void aWritableEntryOverAReadOnlyCpuEntry_isFoundBeforeTheAccess() {
        var atAccess = run(Mmap.PROT_READ, (k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base), true);
            map.access(base, false);
        });
        var v = single(atAccess, KernelRules.DEVMAP_WRITE_NEEDS_CPU_WRITE);
        assertTrue(v.detail().contains("before a device read") && v.detail().contains("is writable but the CPU entry "
                + "is read-only"), v.detail());

        assertClean(run(Mmap.PROT_READ, (k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base), false);
            map.access(base, false);
            map.close();
        }));
    }

    @Test
    void aDeviceWriteThroughAReadOnlyEntryOrNoEntry_isFound() {
        var ro = run((k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base), false);
            map.access(base, true);
        });
        assertTrue(single(ro, KernelRules.DEVMAP_WRITE_NEEDS_CPU_WRITE).detail().contains("through the read-only"));
        var none = run((k, mm, base, map) -> map.access(base, true));
        assertTrue(single(none, KernelRules.DEVMAP_NAMES_CPU_PAGE).detail().contains("through no device entry"));
    }

    @Test
    void anEntryNamingAnotherPage_isFoundBeforeTheAccess() {
        var r = run((k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base + PAGE), false);
            map.access(base, false);
        });
        var v = single(r, KernelRules.DEVMAP_NAMES_CPU_PAGE);
        assertTrue(v.detail().contains("before a device read") && v.detail().contains("committed at"), v.detail());
    }

    @Test
    void anEntryMadeAfterTheStart_isJudgedByThePageNotBySurvival() {
        assertClean(run((k, mm, base, map) -> {
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            mm.mmapReadLock();
            range.invalidateRangeStart();
            map.map(base, cpuPage(k, mm, base), true);
            range.invalidateRangeEnd();
            mm.mmapReadUnlock();
            map.close();
        }));
    }

    @Test
    void theDriversOwnMigration_mayLeaveItsEntries_anotherOwnersMayNot() {
        assertClean(run((k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base), true);
            invalidate(mm, new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_MIGRATE, 0, mm, base, base + PAGE, OWNER));
            map.close();
        }));
        var r = run((k, mm, base, map) -> {
            map.map(base, cpuPage(k, mm, base), true);
            invalidate(mm, new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_MIGRATE, 0, mm, base, base + PAGE,
                    new Object()));
        });
        single(r, KernelRules.DEVMAP_NO_ENTRY_SURVIVES);
    }

    @Test
    void anEntryLeftAfterExit_isFound() {
        var r = run((k, mm, base, map) -> map.map(base, cpuPage(k, mm, base), false));
        assertEquals(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, ((Failure.InvariantViolation) r.failures().get(0)).rule());
    }

    @Test
    void anEntryMadeAfterTheAddressSpaceWentAway_isFoundAtQuiescence() {
        Kernel k = checkedKernel(1);
        AtomicReference<MmStruct> mmRef = new AtomicReference<>();
        AtomicReference<Page> pageRef = new AtomicReference<>();
        Task proc = Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            UserAccess.copyToUser(k, base, new byte[1]);
            mmRef.set(mm);
            pageRef.set(cpuPage(k, mm, base));
        });
        k.spawnKthread("late-device", t -> {
            proc.join();
            DeviceMap.create(mmRef.get(), "dev->pt", OWNER).map(0x10000, pageRef.get(), false);
        });
        var v = single(k.run(), KernelRules.DEVMAP_NAMES_CPU_PAGE);
        assertTrue(v.detail().contains("at quiescence") && v.detail().contains("is gone"), v.detail());
    }

    @Test
    void compare_judgesOneEntryAgainstOneCpuEntry() {
        assertClean(run((k, mm, base, map) -> {
            Page p = cpuPage(k, mm, base);
            long pfn = p.pfn();
            assertEquals(Mismatch.NONE, DeviceMapChecker.compare(Pte.mkPresent(pfn, true), p, true, OWNER));
            assertEquals(Mismatch.WRITE_NOT_WRITABLE, DeviceMapChecker.compare(Pte.mkPresent(pfn, false), p, true,
                    OWNER));
            assertEquals(Mismatch.NONE, DeviceMapChecker.compare(Pte.mkPresent(pfn, false), p, false, OWNER));
            assertEquals(Mismatch.PAGE_NOT_MAPPED, DeviceMapChecker.compare(Pte.mkPresent(pfn + 1, true), p, false,
                    OWNER));
            assertEquals(Mismatch.PAGE_NOT_MAPPED, DeviceMapChecker.compare(0, p, false, OWNER));
            assertEquals(Mismatch.PAGE_NOT_MAPPED, DeviceMapChecker.compare(Pte.mkProtNone(Pte.mkPresent(pfn, false)),
                    p, false, OWNER));
            assertEquals(Mismatch.UNDER_MIGRATION, DeviceMapChecker.compare(Pte.mkMigration(pfn, true), p, true,
                    OWNER));
            assertEquals(Mismatch.NONE, DeviceMapChecker.compare(Pte.mkDeviceExclusive(pfn, true), p, true, OWNER));
            assertEquals(Mismatch.WRITE_NOT_WRITABLE, DeviceMapChecker.compare(Pte.mkDeviceExclusive(pfn, false), p,
                    true, OWNER));
            assertEquals(Mismatch.PAGE_NOT_MAPPED, DeviceMapChecker.compare(Pte.mkDevicePrivate(pfn, true), p, false,
                    OWNER));
            map.close();
        }));
    }

    private static void invalidate(MmStruct mm, MmuNotifierRange range) {
        mm.mmapReadLock();
        range.invalidateRangeStart();
        range.invalidateRangeEnd();
        mm.mmapReadUnlock();
    }
}
