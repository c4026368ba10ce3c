package hmm4j.sim.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.TestOps;
import hmm4j.sim.failure.Failure;

/** Small helpers shared by the primitive tests. */
final class SyncTestSupport {
    private SyncTestSupport() {
    }

    /** The run stopped with exactly one failure, of type {@code type}. */
    static <T extends Failure> T onlyFailure(RunResult r, Class<T> type) {
        assertEquals(1, r.failures().size(), () -> "failures: " + r.failures());
        return assertInstanceOf(type, r.failures().get(0), () -> "failures: " + r.failures());
    }

    /** Yields (scheduling points) until {@code other} is blocked on something containing {@code what}. */
    static void awaitBlocked(Task self, Task other, String what) {
        while (!(other.state() == Task.State.BLOCKED && other.blockedOn() != null
                && other.blockedOn().contains(what))) {
            TestOps.point(self.kernel(), "poll " + other.name());
        }
    }
}
