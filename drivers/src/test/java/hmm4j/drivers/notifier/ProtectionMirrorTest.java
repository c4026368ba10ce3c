package hmm4j.drivers.notifier;

import static hmm4j.testkit.RunAssertions.assertClean;
import static hmm4j.testkit.RunAssertions.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.testkit.TestKernels;
import hmm4j.testkit.UserMemory;
import hmm4j.testkit.UserProcess;
import org.junit.jupiter.api.Test;

/**
 * The protection-event mirror through the device-mapping checker, on mprotect and on fork:
 * the design that ignores protection events is found, the one that handles them is clean and
 * its device writes after fork go to the parent's own copy.
 */
class ProtectionMirrorTest {
    private static final long PAGE = Pte.PAGE_SIZE;

    @Test
    void ignoringProtection_keepsAWritableEntryAcrossMprotect_andIsFound() {
        Kernel k = TestKernels.checked(1);
        UserProcess.withMapping(k, "proc", 2, (kk, mm, base) -> {
            ProtectionMirror m = ProtectionMirror.ignoringProtection(kk, mm, base, 2 * PAGE);
            assertEquals(0, m.fault(base, true));
            Mprotect.mprotect(mm, base, PAGE, Mmap.PROT_READ);
        });
        var v = (Failure.InvariantViolation) assertFails(k.run(), KernelRules.DEVMAP_NO_ENTRY_SURVIVES);
        assertTrue(v.detail().contains("MMU_NOTIFY_PROTECTION_VMA"), v.detail());
    }

    @Test
    void handlingProtection_clearsOnMprotect_andRefaultsReadOnly() {
        Kernel k = TestKernels.checked(1);
        UserProcess.withMapping(k, "proc", 2, (kk, mm, base) -> {
            ProtectionMirror m = ProtectionMirror.handlingProtection(kk, mm, base, 2 * PAGE);
            assertEquals(0, m.fault(base, true));
            Mprotect.mprotect(mm, base, PAGE, Mmap.PROT_READ);
            assertNull(m.deviceMap().entry(base));
            assertEquals(0, m.fault(base, false));
            assertTrue(!m.deviceMap().entry(base).writable());
            m.release();
        });
        assertClean(k.run());
    }

    @Test
    void handlingProtection_acrossFork_theDeviceWriteGoesToTheParentsCopy() {
        Kernel k = TestKernels.checked(1);
        UserProcess.withMapping(k, "proc", 1, (kk, mm, base) -> {
            ProtectionMirror m = ProtectionMirror.handlingProtection(kk, mm, base, PAGE);
            assertEquals(0, m.fault(base, true));
            var child = Process.fork(kk.current(), "child", c ->
                    assertEquals(0, UserMemory.readInt(kk, base), "the child's copy is not written by the device"));
            assertEquals(0, m.deviceWrite(base, (byte) 7));
            assertEquals(7, UserMemory.readInt(kk, base), "the parent sees the device's write");
            child.join();
            m.release();
        });
        assertClean(k.run());
    }

    @Test
    void ignoringProtection_acrossFork_keepsTheWritableEntryOfTheSharedPage_andIsFound() {
        Kernel k = TestKernels.checked(1);
        UserProcess.withMapping(k, "proc", 1, (kk, mm, base) -> {
            ProtectionMirror m = ProtectionMirror.ignoringProtection(kk, mm, base, PAGE);
            assertEquals(0, m.fault(base, true));
            var child = Process.fork(kk.current(), "child", c -> UserMemory.readInt(kk, base));
            m.deviceWrite(base, (byte) 7);
            child.join();
            m.release();
        });
        var v = (Failure.InvariantViolation) assertFails(k.run(), KernelRules.DEVMAP_NO_ENTRY_SURVIVES);
        assertTrue(v.detail().contains("MMU_NOTIFY_PROTECTION_PAGE"), v.detail());
        assertTrue(v.detail().contains("Fork."), "the invalidation's site is fork's: " + v.detail());
    }
}
