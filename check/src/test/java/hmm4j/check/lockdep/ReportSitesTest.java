package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sites of lockdep reports made from a test class in lockdep's own package: the test's
 * frames are reported (it plays the part of driver code), lockdep's and the primitives'
 * are not.
 */
class ReportSitesTest {

    private static Kernel kernel() {
        Kernel k = Kernel.controlled(5);
        Checkers.install(k);
        return k;
    }

    /** Takes {@code m}: the frame a report about this acquisition must name first. */
    private static void takeMutex(Mutex m) {
        m.lock();
    }

    private static void assertNoCheckerOrSubstrateFrames(Site site) {
        for (String frame : site.frames()) {
            assertFalse(frame.startsWith("Lockdep.") || frame.startsWith("LockGraph.") || frame.startsWith("Mutex.")
                    || frame.startsWith("SpinLock.") || frame.startsWith("AbstractLock.") || frame.startsWith("Kernel.")
                    || frame.startsWith("ControlledRuntime"), site.toString());
        }
    }

    @Test
    void sleepInAtomic_inAHelperOfThisTestClass_isReportedAtTheHelper() {
        Kernel k = kernel();
        SpinLock spin = new SpinLock(k, "spin");
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("sleeper", self -> {
            spin.lock();
            takeMutex(m);
        });
        Failure.SleepInAtomic f = assertInstanceOf(Failure.SleepInAtomic.class, k.run().firstFailure().orElseThrow());
        assertTrue(f.site().where().startsWith("ReportSitesTest.takeMutex(ReportSitesTest.java:"), f.site().toString());
        assertTrue(f.site().frames().get(1).startsWith("ReportSitesTest.lambda$"), f.site().toString());
        assertNoCheckerOrSubstrateFrames(f.site());
    }

    @Test
    void heldLockSite_isTheAcquiringTestFrame() {
        Kernel k = kernel();
        Mutex m = new Mutex(k, "m");
        Lockdep lockdep = Lockdep.of(k);
        List<HeldLock> held = new ArrayList<>();
        k.spawnKthread("t", self -> {
            takeMutex(m);
            held.addAll(lockdep.heldLocks(self));
            m.unlock();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(1, held.size());
        assertTrue(held.get(0).site().where().startsWith("ReportSitesTest.takeMutex("), held.get(0).toString());
        assertNoCheckerOrSubstrateFrames(held.get(0).site());
    }

    @Test
    void lockOrderCycle_chainsNameTheTestFramesOfBothOrders() {
        Kernel k = kernel();
        Mutex a = new Mutex(k, "A", "a");
        Mutex b = new Mutex(k, "B", "b");
        k.spawnKthread("t", self -> {
            a.lock();
            takeMutex(b);
            b.unlock();
            a.unlock();
            b.lock();
            takeMutex(a);
        });
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class,
                k.run().firstFailure().orElseThrow());
        assertTrue(c.newChain().get(0).startsWith("B -> A at t @ step "), c.newChain().toString());
        assertTrue(c.newChain().get(0).contains(" at ReportSitesTest.takeMutex(ReportSitesTest.java:"),
                c.newChain().toString());
        assertTrue(c.existingLines().get(0).startsWith("A -> B at t @ step "), c.existingChain().toString());
        assertTrue(c.existingLines().get(0).contains(" at ReportSitesTest.takeMutex(ReportSitesTest.java:"),
                c.existingChain().toString());
    }
}
