package hmm4j.kernel.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@code waitpid}, {@code _exit} and {@code kill}: the pid and the status word of an ended
 * child, encoded as the kernel does, for a child that returns, exits with a code, or dies of
 * {@code SIGKILL} or {@code SIGTERM}; the exit path runs in every case.
 */
class ProcessExitStatusTest {

    private static Kernel checked(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        return k;
    }

    private static void assertClean(RunResult r) {
        assertTrue(r.failures().isEmpty(), r.failures().toString());
    }

    @Test
    void aChildThatReturns_exitedWithStatusZero() {
        Kernel k = checked(1);
        Process.spawn(k, "parent", self -> {
            Task child = Process.fork(self, "child", c -> { });
            WaitStatus s = Process.waitpid(child);
            assertEquals(child.id(), s.pid());
            assertTrue(s.wifexited());
            assertEquals(0, s.wexitstatus());
            assertFalse(s.wifsignaled());
        });
        assertClean(k.run());
    }

    @Test
    void exitLeavesTheCodeAtOnce_withItsCode() {
        Kernel k = checked(2);
        AtomicBoolean after = new AtomicBoolean();
        AtomicReference<MmStruct> childMm = new AtomicReference<>();
        Process.spawn(k, "parent", self -> {
            Task child = Process.fork(self, "child", c -> {
                childMm.set(MmStruct.of(c));
                Process.exit(3);
                after.set(true);
            });
            WaitStatus s = Process.waitpid(child);
            assertTrue(s.wifexited());
            assertEquals(3, s.wexitstatus());
            assertEquals(WaitStatus.exited(3), s.status());
        });
        assertClean(k.run());
        assertFalse(after.get(), "_exit does not return");
        assertEquals(MmState.FREED, childMm.get().mmState(), "the exit path ran exit_mm");
    }

    @Test
    void sigkillOfAPausedChild_killedBySigkill_overSeeds() {
        for (long seed = 1; seed <= 40; seed++) {
            Kernel k = checked(seed);
            AtomicReference<MmStruct> childMm = new AtomicReference<>();
            Process.spawn(k, "parent", self -> {
                Task child = Process.fork(self, "child", c -> {
                    childMm.set(MmStruct.of(c));
                    Signal.pause(c);
                });
                assertEquals(0, Signal.kill(child, Signal.SIGKILL));
                WaitStatus s = Process.waitpid(child);
                assertEquals(child.id(), s.pid());
                assertFalse(s.wifexited());
                assertTrue(s.wifsignaled());
                assertEquals(Signal.SIGKILL, s.wtermsig());
                assertEquals(-Errno.ESRCH, Signal.kill(child, Signal.SIGKILL), "no such process any more");
            });
            assertClean(k.run());
            assertEquals(MmState.FREED, childMm.get().mmState(), "seed " + seed + ": the killed child exited its mm");
        }
    }

    @Test
    void sigtermOfAChildInKernelCode_diesOnItsWayBackToUserSpace() {
        Kernel k = checked(3);
        AtomicBoolean ranToTheEnd = new AtomicBoolean();
        Process.spawn(k, "parent", self -> {
            hmm4j.sim.sync.Completion signalled = new hmm4j.sim.sync.Completion(k, "signalled");
            Task child = Process.fork(self, "child", c -> {
                signalled.waitForCompletion();
                assertEquals(Signal.SIGTERM, Signal.pending(c), "the signal is pending while the child runs");
                ranToTheEnd.set(true);
            });
            assertEquals(0, Signal.kill(child, Signal.SIGTERM));
            signalled.complete();
            WaitStatus s = Process.waitpid(child);
            assertTrue(s.wifsignaled());
            assertEquals(Signal.SIGTERM, s.wtermsig());
        });
        assertClean(k.run());
        assertTrue(ranToTheEnd.get(), "the model cannot stop Java code: the body ran to its end first");
    }

    @Test
    void killWithAnotherSignal_isEinval() {
        Kernel k = checked(4);
        Process.spawn(k, "parent", self -> {
            Task child = Process.fork(self, "child", c -> { });
            assertEquals(-Errno.EINVAL, Signal.kill(child, 2));
            assertTrue(Process.waitpid(child).wifexited());
        });
        assertClean(k.run());
    }

    @Test
    void statusWordEncoding_isTheKernels() {
        assertEquals(0x0300, WaitStatus.exited(3));
        assertEquals(9, WaitStatus.signaled(9));
        WaitStatus killed = new WaitStatus(7, WaitStatus.signaled(15));
        assertTrue(killed.wifsignaled());
        assertFalse(killed.wifexited());
        assertEquals(15, killed.wtermsig());
    }
}
