package hmm4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Pte;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The process set-up maps and touches memory, frees it at exit, and the run assertions fail when they should. */
class UserProcessTest {

    @Test
    void withMapping_givesTouchedPages_andExitFreesThem() {
        Kernel k = TestKernels.checked(1);
        AtomicLong present = new AtomicLong();
        AtomicBoolean done = UserProcess.withMapping(k, "proc", 4, (kk, mm, base) -> {
            for (int i = 0; i < 4; i++) {
                if (Pte.isPresent(UserMemory.pte(mm, base + i * UserMemory.PAGE))) {
                    present.incrementAndGet();
                }
            }
            UserMemory.writeInt(kk, base + 8, 0x12345678);
            assertEquals(0x12345678, UserMemory.readInt(kk, base + 8));
        });
        RunAssertions.assertClean(k.run());
        assertTrue(done.get());
        assertEquals(4, present.get(), "every page of the mapping is present after the touch");
        assertEquals(0, UserMemory.usedPages(k), "exit freed the pages");
    }

    @Test
    void inProcess_returnsTheKernelOfACleanRun() {
        Kernel k = UserProcess.inProcess(3, (kk, self, mm) -> UserMemory.mapTouched(kk, mm, 2));
        assertEquals(0, UserMemory.usedPages(k));
    }

    @Test
    void runAssertions_failOnTheWrongOutcome() {
        RunResult thrown = UserProcess.runProcess(1, (kk, self, mm) -> {
            throw new IllegalStateException("driver bug");
        });
        assertThrows(AssertionFailedError.class, () -> RunAssertions.assertClean(thrown));
        Failure f = RunAssertions.assertFails(thrown, FailureKind.UNEXPECTED_EXCEPTION);
        assertTrue(f.headline().contains("driver bug"), f::headline);
        assertThrows(AssertionFailedError.class, () -> RunAssertions.assertFails(thrown, FailureKind.DEADLOCK));
        assertThrows(AssertionFailedError.class,
                () -> RunAssertions.assertSingleFailure(thrown, Failure.UseAfterFree.class));
        RunResult clean = UserProcess.runProcess(1, (kk, self, mm) -> UserMemory.mapAnon(mm, 1, UserMemory.RW));
        assertThrows(AssertionFailedError.class, () -> RunAssertions.assertFails(clean, FailureKind.DEADLOCK));
        assertNotEquals("", RunAssertions.describe(clean));
    }
}
