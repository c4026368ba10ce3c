package hmm4j.drivers.dmirror;

import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.testkit.TestKernels.checked;
import static hmm4j.drivers.dmirror.DmirrorHarness.cmd;
import static hmm4j.testkit.RunAssertions.describe;
import static hmm4j.drivers.dmirror.DmirrorHarness.fill;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.testkit.UserMemory.pte;
import static hmm4j.testkit.UserProcess.runProcess;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The "no stale device entry" validator catches a device table corrupted on purpose (the kinds
 * of staleness the protocol mutants produce), at the check points it runs at: release, the
 * use of an entry, the end of an invalidation, quiescence.
 */
class DmirrorValidatorTest {

    /** A process that mirrors two written pages, corrupts the table with {@code corrupt}, then goes on with {@code then}. */
    private interface Corruption {
        void apply(Kernel k, MmStruct mm, DmirrorFile f, long a) throws Exception;
    }

    private static Failure.InvariantViolation staleEntryFound(long seed, Corruption corrupt, Corruption then) {
        RunResult r = runProcess(seed, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 1);
            cmd(f, HMM_DMIRROR_READ, a, buf, 2, 0);
            corrupt.apply(k, mm, f, a);
            then.apply(k, mm, f, a);
        });
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class,
                r.firstFailure().orElseThrow(() -> new AssertionError("nothing found: " + describe(r))), () -> describe(r));
        assertEquals(DmirrorRules.NO_STALE_ENTRY, v.rule());
        return v;
    }

    /** Stores a bad entry the way a buggy commit would: under the mutex, nothing else done. */
    private static void storeUnderMutex(Dmirror d, long addr, Page page, int tag) {
        d.mutex().lock();
        try {
            d.pt().store(addr >>> Pte.PAGE_SHIFT, page, tag);
        } finally {
            d.mutex().unlock();
        }
    }

    private static Page pageAt(Kernel k, MmStruct mm, long addr) {
        return PhysMem.of(k).pfnToPage(Pte.pfn(pte(mm, addr)));
    }

    private static final Corruption CLOSE = (k, mm, f, a) -> f.close();

    @Test
    void anEntryNamingAnotherPage_isFoundAtRelease() {
        Failure.InvariantViolation v = staleEntryFound(71,
                (k, mm, f, a) -> storeUnderMutex(f.dmirror(), a, pageAt(k, mm, a + PAGE), DmirrorPageTable.DPT_XA_TAG_RO),
                CLOSE);
        assertTrue(v.detail().contains("at release") && v.detail().contains("no longer maps"), v.detail());
    }

    @Test
    void aWriteTagOnAReadOnlyPage_isFoundBeforeTheEntryIsUsed() {
        Failure.InvariantViolation v = staleEntryFound(72,
                (k, mm, f, a) -> {
                    assertEquals(0, hmm4j.kernel.mm.Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_READ));
                    storeUnderMutex(f.dmirror(), a, pageAt(k, mm, a), DmirrorPageTable.DPT_XA_TAG_WRITE);
                },
                (k, mm, f, a) -> cmd(f, HMM_DMIRROR_READ, a, a + PAGE, 1, 0));
        assertTrue(v.detail().contains("reading the device table") && v.detail().contains("is tagged WRITE but the CPU entry is read-only"), v.detail());
    }

    @Test
    void anAtomicTagOnAPresentPage_isFound() {
        Failure.InvariantViolation v = staleEntryFound(73,
                (k, mm, f, a) -> storeUnderMutex(f.dmirror(), a, pageAt(k, mm, a), DmirrorPageTable.DPT_XA_TAG_ATOMIC),
                CLOSE);
        assertTrue(v.detail().contains("ATOMIC"), v.detail());
    }

    @Test
    void anEntryNamingAnotherDevicesPage_isFound() {
        Failure.InvariantViolation v = staleEntryFound(74,
                (k, mm, f, a) -> {
                    DmirrorFile other = DmirrorFile.open(DmirrorDevice.create(k, 1));
                    long b = mapAnon(mm, 1, RW);
                    fill(k, b, 1, 2);
                    cmd(other, HMM_DMIRROR_MIGRATE_TO_DEV, b, a, 1, 0);
                    // Left open: its release would evict the page from device 1.
                    storeUnderMutex(f.dmirror(), b, pageAt(k, mm, b), DmirrorPageTable.DPT_XA_TAG_RO);
                },
                CLOSE);
        assertTrue(v.detail().contains("names a device-private page of another device"), v.detail());
    }

    @Test
    void anEntryLeftInAnInvalidatedRange_isFoundWhenTheCallbackReturns() {
        RunResult r = runProcess(75, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0, DmirrorProtocol.NO_CLEAR_IN_INVALIDATE));
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 1);
            cmd(f, HMM_DMIRROR_READ, a, buf, 2, 0);
            Mmap.munmap(mm, a + PAGE, PAGE);
        });
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class,
                r.firstFailure().orElseThrow(() -> new AssertionError(describe(r))), () -> describe(r));
        assertEquals(DmirrorRules.NO_STALE_ENTRY, v.rule());
        assertTrue(v.detail().contains("after invalidate MMU_NOTIFY_UNMAP") && v.detail().contains("left in the invalidated range"),
                v.detail());
        assertEquals("proc", v.site().task(), "reported in the unmapping task, when its callback returns");
    }

    @Test
    void atQuiescence_aMirrorLeftOpenIsChecked() {
        Kernel k = checked(76);
        DmirrorDevice dev = DmirrorDevice.create(k, 0);
        AtomicReference<DmirrorFile> file = new AtomicReference<>();
        Task opener = Process.spawn(k, "opener", self -> {
            DmirrorFile f = DmirrorFile.open(dev);
            // A reference that outlives the opener's exit_files, as a leaked get_file would.
            f.getFile();
            file.set(f);
        });
        Process.spawn(k, "buggy", self -> {
            opener.join();
            MmStruct mm = MmStruct.of(self);
            long b = mapAnon(mm, 1, RW);
            fill(k, b, 1, 1);
            storeUnderMutex(file.get().dmirror(), b, pageAt(k, mm, b), DmirrorPageTable.DPT_XA_TAG_RO);
        });
        RunResult r = k.run();
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class,
                r.firstFailure().orElseThrow(() -> new AssertionError(describe(r))), () -> describe(r));
        assertEquals(DmirrorRules.NO_STALE_ENTRY, v.rule());
        assertTrue(v.detail().contains("at quiescence"), v.detail());
    }
}
