package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Mutex;
import org.junit.jupiter.api.Test;

/** Lock-order cycles: reported when the order is inverted, whether or not the run deadlocks. */
class LockOrderTest {

    private static final LockClass A = new LockClass("A");
    private static final LockClass B = new LockClass("B");

    /** Spawns "t1" taking a then b, and "t2" taking b then a after t1 has finished. */
    private static void abThenBa(Kernel k) {
        Mutex a = new Mutex(k, "A", "a#1");
        Mutex b = new Mutex(k, "B", "b#1");
        Task t1 = k.spawnKthread("t1", self -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
        });
        k.spawnKthread("t2", self -> {
            t1.join();
            b.lock();
            a.lock();
            a.unlock();
            b.unlock();
        });
    }

    @Test
    void abBa_acrossTwoTasks_isReportedAlthoughNoDeadlockHappens() {
        for (long seed = 0; seed < 20; seed++) {
            Kernel k = Kernel.controlled(seed);
            Checkers.install(k);
            abThenBa(k);
            RunResult r = k.run();

            assertEquals(1, r.failures().size(), "seed " + seed + ": " + r.failures());
            Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, r.failures().get(0));
            assertEquals("B", c.held());
            assertEquals("A", c.acquiring());
            assertEquals("t2", c.site().task());
            assertTrue(c.newChain().get(0).startsWith("B -> A at t2 @ step "), c.newChain().toString());
            assertTrue(c.newChain().get(0).contains("LockOrderTest.lambda$abThenBa$"), c.newChain().toString());
            assertTrue(c.newChain().get(1).contains("b#1 (class B) taken at t2"), c.newChain().toString());
            assertEquals(1, c.existingChain().size(), c.existingChain().toString());
            assertTrue(c.existingLines().get(0).startsWith("A -> B at t1 @ step "), c.existingChain().toString());
            assertTrue(c.existingLines().get(0).contains("LockOrderTest.java:"), c.existingChain().toString());
            Failure.LockLink link = assertInstanceOf(Failure.LockLink.class, c.existingChain().get(0));
            assertEquals("A", link.from());
            assertEquals("B", link.to());
            assertEquals("t1", link.task());
            assertEquals(1, link.taskId(), "t1 is the first task spawned");
            assertEquals(1, link.run());
            assertFalse(link.earlierRun());
            assertEquals(SimRules.LOCK_ORDER, c.rule());
            assertTrue(c.headline().contains("t2 takes A while holding B"), c.headline());
        }
    }

    @Test
    void abBa_withoutLockdep_isCleanOnThatSchedule() {
        Kernel k = Kernel.controlled(3);
        abThenBa(k);
        assertTrue(k.run().clean(), "the runtime alone sees no deadlock when t2 waits for t1");
    }

    @Test
    void cycle_spreadOverTwoRunsSharingAGraph_isReportedInTheSecondRunOnce() {
        LockGraph graph = new LockGraph();

        Kernel first = Kernel.controlled(1);
        Checkers.install(first, graph);
        Mutex a1 = new Mutex(first, "A", "a");
        Mutex b1 = new Mutex(first, "B", "b");
        first.spawnKthread("run1", self -> {
            a1.lock();
            b1.lock();
            b1.unlock();
            a1.unlock();
        });
        assertTrue(first.run().clean());
        assertTrue(graph.hasDependency(A, B));
        assertFalse(graph.hasDependency(B, A));

        Kernel second = Kernel.controlled(2);
        Lockdep.of(first).attachTo(second);
        Shapes.baTask(second, "run2");
        RunResult r = second.run();
        Failure.LockOrderCycle c = assertInstanceOf(Failure.LockOrderCycle.class, r.firstFailure().orElseThrow());
        assertEquals("run2", c.site().task());
        assertTrue(c.newChain().get(0).startsWith("B -> A at run2"), c.newChain().toString());
        assertTrue(c.existingLines().get(0).startsWith("A -> B at run1"), c.existingChain().toString());
        assertTrue(c.existingLines().get(0).endsWith("(earlier run 1, seed 1)"), c.existingChain().toString());
        assertEquals(2, graph.runs());

        Kernel third = Kernel.controlled(3);
        Checkers.install(third, graph);
        Shapes.baTask(third, "run3");
        assertTrue(third.run().clean(), "a cycle is reported once per graph");

        Kernel alone = Kernel.controlled(2);
        Checkers.install(alone);
        Shapes.baTask(alone, "run2");
        assertTrue(alone.run().clean(), "without the shared graph the second run is clean");
    }

    @Test
    void consistentOrder_isCleanOverManySeeds() {
        for (long seed = 0; seed < 100; seed++) {
            Kernel k = Kernel.controlled(seed);
            Checkers.install(k);
            Mutex a = new Mutex(k, "A", "a");
            Mutex b = new Mutex(k, "B", "b");
            Mutex c = new Mutex(k, "C", "c");
            for (int i = 0; i < 3; i++) {
                k.spawnKthread("t" + i, self -> {
                    for (int round = 0; round < 2; round++) {
                        a.lock();
                        b.lock();
                        c.lock();
                        c.unlock();
                        b.unlock();
                        a.unlock();
                        b.lock();
                        c.lock();
                        b.unlock();
                        c.unlock();
                    }
                });
            }
            RunResult r = k.run();
            assertTrue(r.clean(), "seed " + seed + ": " + r.failures());
            LockGraph g = Lockdep.of(k).graph();
            assertTrue(g.hasDependency(A, B) && g.hasDependency(B, new LockClass("C")));
            assertFalse(g.hasDependency(B, A));
        }
    }

    @Test
    void threeLockCycle_reportsTheWholeExistingChain() {
        Kernel k = Kernel.controlled(7);
        Checkers.install(k);
        Mutex a = new Mutex(k, "A", "a");
        Mutex b = new Mutex(k, "B", "b");
        Mutex c = new Mutex(k, "C", "c");
        Task ab = k.spawnKthread("ab", self -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
        });
        Task bc = k.spawnKthread("bc", self -> {
            ab.join();
            b.lock();
            c.lock();
            c.unlock();
            b.unlock();
        });
        k.spawnKthread("ca", self -> {
            bc.join();
            c.lock();
            a.lock();
            a.unlock();
            c.unlock();
        });
        Failure.LockOrderCycle f = assertInstanceOf(Failure.LockOrderCycle.class,
                k.run().firstFailure().orElseThrow());
        assertEquals("C", f.held());
        assertEquals("A", f.acquiring());
        assertEquals(2, f.existingChain().size(), f.existingChain().toString());
        assertTrue(f.existingLines().get(0).startsWith("A -> B at ab"), f.existingChain().toString());
        assertTrue(f.existingLines().get(1).startsWith("B -> C at bc"), f.existingChain().toString());
    }

    @Test
    void trylock_inReverseOrder_addsNoDependency_butLocksTakenUnderItDo() {
        for (long seed = 0; seed < 30; seed++) {
            Kernel k = Kernel.controlled(seed);
            Checkers.install(k);
            Mutex a = new Mutex(k, "A", "a");
            Mutex b = new Mutex(k, "B", "b");
            Mutex c = new Mutex(k, "C", "c");
            k.spawnKthread("ab", self -> {
                a.lock();
                b.lock();
                b.unlock();
                a.unlock();
            });
            k.spawnKthread("b-trylock-a", self -> {
                b.lock();
                if (a.trylock()) {
                    c.lock();
                    c.unlock();
                    a.unlock();
                }
                b.unlock();
            });
            RunResult r = k.run();
            assertTrue(r.clean(), "seed " + seed + ": " + r.failures());
            assertFalse(Lockdep.of(k).graph().hasDependency(B, A), "a trylock adds no dependency");
        }

        Kernel k = Kernel.controlled(0);
        Checkers.install(k);
        Mutex a = new Mutex(k, "A", "a");
        Mutex c = new Mutex(k, "C", "c");
        k.spawnKthread("trylock-a-then-c", self -> {
            assertTrue(a.trylock());
            c.lock();
            c.unlock();
            a.unlock();
            c.lock();
            a.lock();
        });
        Failure.LockOrderCycle f = assertInstanceOf(Failure.LockOrderCycle.class,
                k.run().firstFailure().orElseThrow());
        assertEquals("C", f.held());
        assertEquals("A", f.acquiring());
    }

    @Test
    void nativeRuntime_collectsTheCycleAndCarriesOn() {
        Kernel k = Kernel.nativeRuntime();
        Checkers.install(k);
        Mutex a = new Mutex(k, "A", "a");
        Mutex b = new Mutex(k, "B", "b");
        boolean[] finished = new boolean[1];
        k.spawnKthread("single", self -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
            b.lock();
            a.lock();
            a.unlock();
            b.unlock();
            finished[0] = true;
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        assertInstanceOf(Failure.LockOrderCycle.class, r.failures().get(0));
        assertTrue(finished[0], "a native run continues after a report");
    }

    @Test
    void install_twiceOnOneKernel_isRefused() {
        Kernel k = Kernel.controlled(0);
        Checkers.install(k);
        assertThrows(IllegalStateException.class, () -> Checkers.install(k));
    }

    /** Shared task shapes. */
    static final class Shapes {
        private Shapes() {
        }

        /** A task taking B then A on fresh mutexes of {@code k}. */
        static void baTask(Kernel k, String name) {
            Mutex a = new Mutex(k, "A", "a");
            Mutex b = new Mutex(k, "B", "b");
            k.spawnKthread(name, self -> {
                b.lock();
                a.lock();
                a.unlock();
                b.unlock();
            });
        }
    }
}
