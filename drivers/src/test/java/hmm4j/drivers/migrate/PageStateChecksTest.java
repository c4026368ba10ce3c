package hmm4j.drivers.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.drivers.migrate.MigratingDevice.Design;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The end-of-run checks of page and migration state: a driver that skips
 * {@code migrate_vma_finalize} on its error path is found at quiescence with the setup call's
 * site, its fix is clean; and each of the other three checks (migration entry left, page left
 * locked, page reference left) names the site that created the state.
 */
class PageStateChecksTest {

    /** One process maps and fills {@code pages} pages and migrates them to a device of {@code devicePages}. */
    private static void oneMigration(Kernel k, Design design, int pages, int devicePages) {
        MigratingDevice dev = new MigratingDevice(k, "dev", devicePages, design);
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = Mmap.mmapAnonymous(mm, pages * Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            for (int i = 0; i < pages; i++) {
                UserAccess.copyToUser(k, a + i * Pte.PAGE_SIZE, new byte[] {(byte) i});
            }
            dev.migrateToDevice(mm, a, pages);
        });
    }

    private static boolean mentions(Site site, String frame) {
        return site.frames().stream().anyMatch(f -> f.startsWith(frame));
    }

    private static Set<String> ruleIds(RunResult r) {
        return r.failures().stream().map(f -> f.rule().id()).collect(Collectors.toSet());
    }

    @Test
    void skippedFinalizeOnTheErrorPath_isFoundAtQuiescence_withTheSetupCallsSite() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        oneMigration(k, Design.SKIPS_FINALIZE_ON_ERROR, 3, 2);
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class, r.failures().get(0));
        assertEquals(KernelRules.MIGRATE_FINALIZED, v.rule());
        assertTrue(v.detail().startsWith("migrate_vma of [0x"), v.detail());
        assertEquals("process", v.site().task());
        assertTrue(mentions(v.site(), "MigratingDevice.migrateToDevice"), v.site().toString());
    }

    @Test
    void finalizingOnTheErrorPath_isClean_andTheFourChecksRan() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        oneMigration(k, Design.FINALIZES_ON_ERROR, 3, 2);
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertTrue(r.validators().containsAll(List.of(KernelRules.MIGRATE_FINALIZED.id(),
                KernelRules.NO_MIGRATION_ENTRY_LEFT.id(), KernelRules.NO_PAGE_LEFT_LOCKED.id(),
                KernelRules.NO_PAGE_REFERENCE_LEFT.id())), r.validators().toString());
    }

    @Test
    void aSuccessfulMigration_isClean() {
        Kernel k = Kernel.controlled(2);
        Checkers.install(k);
        oneMigration(k, Design.SKIPS_FINALIZE_ON_ERROR, 2, 2);
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
    }

    @Test
    void inTheNativeRuntime_theSkippedFinalizeAlsoLeavesLockedPagesAndReferences_eachWithItsSite() {
        Kernel k = Kernel.nativeRuntime();
        Checkers.install(k);
        oneMigration(k, Design.SKIPS_FINALIZE_ON_ERROR, 3, 2);
        RunResult r = k.run();
        assertEquals(Set.of(KernelRules.MIGRATE_FINALIZED.id(), KernelRules.NO_PAGE_LEFT_LOCKED.id(),
                KernelRules.NO_PAGE_REFERENCE_LEFT.id()), ruleIds(r), r.failures().toString());
        for (Failure f : r.failures()) {
            Failure.InvariantViolation v = (Failure.InvariantViolation) f;
            if (v.rule() == KernelRules.NO_PAGE_LEFT_LOCKED) {
                assertTrue(mentions(v.site(), "MigrateCollect.") || mentions(v.site(), "DevPagemap.zoneDevicePageInit"),
                        "the lock_page of the collection or of the device page: " + v.site());
            } else if (v.rule() == KernelRules.NO_PAGE_REFERENCE_LEFT) {
                assertEquals("process", v.site().task(), "the page's allocation by the process's fault: " + v.site());
                assertTrue(mentions(v.site(), "PhysMem.allocPage"), v.site().toString());
            }
        }
    }

    @Test
    void aMigrationEntryLeftInALiveAddressSpace_namesItsInstall() {
        Kernel k = Kernel.nativeRuntime();
        Checkers.install(k);
        RefHandle keeper = new RefHandle("test");
        MmStruct mm = MmStruct.mmAlloc(k, keeper);
        MigratingDevice dev = new MigratingDevice(k, "dev", 1, Design.SKIPS_FINALIZE_ON_ERROR);
        k.spawnUser("process", self -> {
            mm.transferUsersRef(self);
            self.set(MmStruct.TASK_MM, mm);
            long a = Mmap.mmapAnonymous(mm, 2 * Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            UserAccess.copyToUser(k, a, new byte[] {1});
            UserAccess.copyToUser(k, a + Pte.PAGE_SIZE, new byte[] {2});
            dev.migrateToDevice(mm, a, 2);
        });
        RunResult r = k.run();
        Failure.InvariantViolation left = r.failures().stream()
                .filter(f -> f.rule() == KernelRules.NO_MIGRATION_ENTRY_LEFT)
                .map(Failure.InvariantViolation.class::cast).findFirst().orElseThrow(() -> new AssertionError(r.failures()));
        assertTrue(left.detail().contains("of " + mm.name()), left.detail());
        assertTrue(mentions(left.site(), "MigrateCollect."), left.site().toString());
    }

    @Test
    void aPageLeftLocked_andAReferenceLeft_nameTheLockPageAndTheGetPage() {
        Kernel k = Kernel.nativeRuntime();
        Checkers.install(k);
        k.spawnUser("driver", self -> {
            Page locked = PhysMem.of(k).allocPage();
            locked.lock();
            locked.unlock();
            locked.lock();
            Page anon = PhysMem.of(k).allocPage();
            anon.setFlag(Page.PG_ANON);
            anon.get();
            anon.put();
        });
        RunResult r = k.run();
        Failure.InvariantViolation lock = r.failures().stream().filter(f -> f.rule() == KernelRules.NO_PAGE_LEFT_LOCKED)
                .map(Failure.InvariantViolation.class::cast).findFirst().orElseThrow(() -> new AssertionError(r.failures()));
        assertEquals("driver", lock.site().task());
        assertTrue(mentions(lock.site(), "PageStateChecksTest."), lock.site().toString());
        Failure.InvariantViolation ref = r.failures().stream().filter(f -> f.rule() == KernelRules.NO_PAGE_REFERENCE_LEFT)
                .map(Failure.InvariantViolation.class::cast).findFirst().orElseThrow(() -> new AssertionError(r.failures()));
        assertTrue(mentions(ref.site(), "Page.get"), ref.site().toString());
    }
}
