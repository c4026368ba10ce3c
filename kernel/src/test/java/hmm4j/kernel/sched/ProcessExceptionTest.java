package hmm4j.kernel.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A process whose body throws is reported at the throw, before its {@code exit_mm}: an
 * exception thrown with the mmap lock held is the report, not the deadlock or recursive
 * locking its exit would run into on that lock.
 */
class ProcessExceptionTest {

    @Test
    void anExceptionThrownWithTheMmapLockHeld_isReportedAsItself_notAsTheExitsLockingProblem() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        Process.spawn(k, "process", self -> {
            MmStruct.of(self).mmapWriteLock();
            throw new IllegalStateException("driver bug");
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.UnexpectedException u = assertInstanceOf(Failure.UnexpectedException.class, r.failures().get(0));
        assertEquals("driver bug", u.message());
        assertEquals("process", u.site().task());
        assertTrue(u.site().frames().stream().anyMatch(f -> f.startsWith("ProcessExceptionTest.")), u.site().toString());
        assertTrue(r.trace().stream().anyMatch(e -> e.kind() == TraceEvent.Kind.THREW), "the trace shows the throw");
    }

    @Test
    void inTheNativeRuntime_theExceptionIsReportedOnce_andTheExitStillRuns() {
        Kernel k = Kernel.nativeRuntime();
        Checkers.install(k);
        AtomicReference<MmStruct> mm = new AtomicReference<>();
        Process.spawn(k, "process", self -> {
            mm.set(MmStruct.of(self));
            throw new IllegalStateException("driver bug");
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        assertInstanceOf(Failure.UnexpectedException.class, r.failures().get(0));
        assertEquals(MmState.FREED, mm.get().mmState(), "exit_mm ran after the report");
    }
}
