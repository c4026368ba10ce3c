package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The runtime's bounds against hostile tasks: a loop without a scheduling point, a task
 * blocked outside the model, a spawn bomb. Each ends in a verdict naming the bound and the
 * task, and the runs after it in the same JVM are unaffected.
 */
class RuntimeBoundsTest {

    /** A small clean program: three tasks increment a counter under a mutex. */
    private static RunResult cleanRun(long seed) {
        Kernel k = Kernel.controlled(seed);
        Mutex m = new Mutex(k, "m");
        Cell<Integer> x = new Cell<>(k, "x", 0);
        for (int i = 0; i < 3; i++) {
            k.spawnKthread("t" + i, self -> {
                m.lock();
                x.writeOnce(x.readOnce() + 1);
                m.unlock();
            });
        }
        RunResult r = k.run();
        assertEquals(3, x.peek(), "seed " + seed);
        return r;
    }

    private static void assertLaterRunsClean() {
        for (long seed = 0; seed < 20; seed++) {
            RunResult r = cleanRun(seed);
            assertTrue(r.clean(), "seed " + seed + ": " + r.failures());
        }
    }

    private static Failure.StepBoundExceeded bound(RunResult r) {
        return assertInstanceOf(Failure.StepBoundExceeded.class, r.firstFailure().orElseThrow());
    }

    @Test
    void tasksOfARun_runOnOneThread_asContinuations_whenTheJvmExportsThem() {
        assertTrue(Continuations.chosen(), "the test JVM passes --add-exports: " + Continuations.UNAVAILABLE_REASON);
        Kernel k = Kernel.controlled(3);
        Set<Thread> threads = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            k.spawnKthread("t" + i, self -> {
                threads.add(Thread.currentThread());
                TestOps.point(self.kernel(), "p");
                threads.add(Thread.currentThread());
            });
        }
        assertTrue(k.run().clean());
        assertEquals(1, threads.size(), threads.toString());
        assertFalse(threads.iterator().next().isVirtual());
        assertFalse(threads.contains(Thread.currentThread()), "a run thread, not the caller's");
    }

    @Test
    void aLoopWithoutASchedulingPoint_isReported_andDoesNotPoisonLaterRuns() {
        AtomicBoolean release = new AtomicBoolean();
        AtomicLong spins = new AtomicLong();
        try {
            Kernel k = Kernel.builder().seed(1).wallTimeoutMillis(300).build();
            k.spawnKthread("spinner", self -> {
                TestOps.point(self.kernel(), "before the loop");
                while (!release.get()) {
                    spins.incrementAndGet();
                }
            });
            k.spawnKthread("other", self -> TestOps.point(self.kernel(), "p"));
            RunResult r = k.run();
            Failure.StepBoundExceeded f = bound(r);
            assertEquals("wall-clock time", f.bound());
            assertTrue(f.detail().startsWith("spinner ran 300 ms without reaching a scheduling point"), f.detail());
            assertTrue(spins.get() > 0);
            // The spinner still holds its abandoned thread: later runs do not need it.
            assertLaterRunsClean();
        } finally {
            release.set(true);
        }
    }

    @Test
    void aTaskBlockedInObjectWait_isReportedAsBlockedOutsideTheModel_andLaterRunsAreClean() {
        Object monitor = new Object();
        Kernel k = Kernel.builder().seed(2).blockedMillis(200).build();
        k.spawnKthread("waiter", self -> {
            TestOps.point(self.kernel(), "before waiting");
            synchronized (monitor) {
                try {
                    monitor.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        RunResult r = k.run();
        Failure.StepBoundExceeded f = bound(r);
        assertEquals(RunBounds.BLOCKED, f.bound());
        assertTrue(f.detail().startsWith("waiter waited 200 ms outside the model (WAITING"), f.detail());
        assertTrue(f.headline().contains("a task waits on something the model cannot see"), f.headline());
        assertLaterRunsClean();
    }

    @Test
    void aTaskBlockedOnAJavaUtilConcurrentLatch_isReportedAsBlocked() {
        CountDownLatch never = new CountDownLatch(1);
        Kernel k = Kernel.builder().seed(2).blockedMillis(200).build();
        k.spawnKthread("latched", self -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Failure.StepBoundExceeded f = bound(k.run());
        assertEquals(RunBounds.BLOCKED, f.bound());
        assertTrue(f.detail().startsWith("latched waited 200 ms outside the model"), f.detail());
        assertEquals("latched", f.site().task());
        assertLaterRunsClean();
    }

    @Test
    void aTaskBlockedInARealRead_runnableInNativeCode_isReportedAsBlocked_notAsARunaway() {
        Kernel k = Kernel.builder().seed(2).blockedMillis(200).wallTimeoutMillis(5_000).build();
        k.spawnKthread("reader", self -> {
            TestOps.point(self.kernel(), "before reading");
            try {
                java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
                pipe.source().read(java.nio.ByteBuffer.allocate(1));
            } catch (java.io.IOException e) {
                // closed by the interrupt of the abandoned thread
            }
        });
        Failure.StepBoundExceeded f = bound(k.run());
        assertEquals(RunBounds.BLOCKED, f.bound(), f.detail());
        assertTrue(f.detail().startsWith("reader waited 200 ms outside the model (RUNNABLE in sun.nio.ch."),
                f.detail());
        assertLaterRunsClean();
    }

    private static void bomb(Task self) {
        for (int i = 0; i < 2; i++) {
            self.kernel().spawnKthread("b", RuntimeBoundsTest::bomb);
        }
        TestOps.point(self.kernel(), "bomb");
    }

    @Test
    void aSpawnBomb_endsInTheLiveTaskBound_notOutOfMemory() {
        Kernel k = Kernel.builder().seed(4).build();
        k.spawnKthread("b", RuntimeBoundsTest::bomb);
        RunResult r = k.run();
        Failure.StepBoundExceeded f = bound(r);
        assertEquals(RunBounds.TASKS, f.bound());
        assertEquals(Kernel.DEFAULT_MAX_TASKS, f.limit());
        assertTrue(f.detail().startsWith(Kernel.DEFAULT_MAX_TASKS + 1 + " tasks alive"), f.detail());
        assertLaterRunsClean();
    }

    @Test
    void aSpawnBombUnderAHighTaskBound_endsInTheDecisionMemoryBound() {
        Kernel k = Kernel.builder().seed(4).maxTasks(1_000_000).maxDecisionBytes(1 << 20).build();
        k.spawnKthread("b", RuntimeBoundsTest::bomb);
        Failure.StepBoundExceeded f = bound(k.run());
        assertEquals(RunBounds.DECISION_MEMORY, f.bound());
        assertEquals(1 << 20, f.limit());
        assertLaterRunsClean();
    }

    @Test
    void theDecisionRecord_reusesAnUnchangedEnabledSet_andReadsBackAsDecisions() {
        RunResult r = cleanRun(5);
        assertTrue(r.decisions().size() > 5);
        for (int i = 0; i < r.decisions().size(); i++) {
            Decision d = r.decisions().get(i);
            assertEquals(i + 1, d.step());
            assertTrue(d.enabled().contains(d.chosen()), d.toString());
        }
        assertEquals(r.decisions(), cleanRun(5).decisions());
    }
}
