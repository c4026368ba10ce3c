package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.sync.AtomicT;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ControlledRuntimeTest {

    /** A lost-update program: two tasks do a read-modify-write on a cell without a lock. */
    private static Kernel lostUpdate(long seed, List<Integer> out) {
        Kernel k = Kernel.controlled(seed);
        Cell<Integer> x = new Cell<>(k, "x", 0);
        for (int i = 0; i < 2; i++) {
            k.spawnKthread("t" + i, self -> {
                int v = x.readOnce();
                x.writeOnce(v + 1);
            });
        }
        k.spawnKthread("observer", self -> {
            TestOps.point(self.kernel(), "observe");
        });
        out.clear();
        return k;
    }

    @Test
    void sameSeed_givesIdenticalDecisionsAndTrace() {
        List<Integer> ignored = new ArrayList<>();
        for (long seed = 0; seed < 20; seed++) {
            RunResult a = lostUpdate(seed, ignored).run();
            RunResult b = lostUpdate(seed, ignored).run();
            assertEquals(a.decisions(), b.decisions(), "seed " + seed);
            assertEquals(a.trace(), b.trace(), "seed " + seed);
            assertTrue(a.clean());
        }
    }

    @Test
    void differentSeeds_exploreDifferentInterleavings() {
        Set<List<Decision>> schedules = new HashSet<>();
        Set<Integer> finals = new HashSet<>();
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            Cell<Integer> x = new Cell<>(k, "x", 0);
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("t" + i, self -> x.writeOnce(x.readOnce() + 1));
            }
            RunResult r = k.run();
            schedules.add(r.decisions());
            finals.add(x.peek());
        }
        assertTrue(schedules.size() > 3, "only " + schedules.size() + " schedules");
        assertEquals(Set.of(1, 2), finals, "random walk must find both the lost update and the correct sum");
    }

    @Test
    void mutex_preventsLostUpdate_onEverySeed() {
        for (long seed = 0; seed < 100; seed++) {
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
            assertTrue(r.clean(), () -> r.failures().toString());
            assertEquals(3, x.peek(), "seed " + seed);
        }
    }

    @Test
    void deadlock_isReportedWithEveryBlockedTask() {
        int found = 0;
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            Mutex a = new Mutex(k, "A");
            Mutex b = new Mutex(k, "B");
            k.spawnKthread("ab", self -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
            k.spawnKthread("ba", self -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });
            RunResult r = k.run();
            if (!r.clean()) {
                found++;
                Failure.Deadlock d = assertInstanceOf(Failure.Deadlock.class, r.failures().get(0));
                assertEquals(2, d.blocked().size());
                assertTrue(d.blocked().get(0).startsWith("ab blocked on mutex_lock(B) held by ba"), d.blocked().toString());
                assertTrue(d.blocked().get(1).startsWith("ba blocked on mutex_lock(A) held by ab"), d.blocked().toString());
            }
        }
        assertTrue(found > 0, "random walk never hit the AB-BA deadlock in 50 seeds");
    }

    @Test
    void throwingTask_isReportedWithItsStack_notACrash() {
        Kernel k = Kernel.controlled(1);
        k.spawnKthread("bad", self -> {
            TestOps.point(self.kernel(), "before");
            throw new IllegalStateException("driver bug");
        });
        k.spawnKthread("other", self -> TestOps.point(self.kernel(), "x"));
        RunResult r = k.run();
        Failure.UnexpectedException e = assertInstanceOf(Failure.UnexpectedException.class, r.failures().get(0));
        assertEquals("java.lang.IllegalStateException", e.exception());
        assertEquals("driver bug", e.message());
        assertEquals("bad", e.site().task());
        assertTrue(e.stack().stream().anyMatch(l -> l.contains("ControlledRuntimeTest")), e.stack().toString());
    }

    @Test
    void livelock_hitsTheStepBound() {
        Kernel k = Kernel.builder().seed(3).maxSteps(500).build();
        Cell<Boolean> flag = new Cell<>(k, "flag", false);
        k.spawnKthread("spinner", self -> {
            while (!flag.readOnce()) {
                // waits for a flag nobody sets
            }
        });
        RunResult r = k.run();
        Failure f = r.failures().get(0);
        assertEquals(FailureKind.STEP_BOUND_EXCEEDED, f.kind());
        assertEquals(500, ((Failure.StepBoundExceeded) f).limit());
    }

    @Test
    void replay_reproducesTheRun_andDetectsDivergence() {
        List<Integer> ignored = new ArrayList<>();
        RunResult original = lostUpdate(7, ignored).run();
        Kernel replay = Kernel.builder().seed(7).strategy(new ReplayStrategy(original.decisions())).build();
        Cell<Integer> x = new Cell<>(replay, "x", 0);
        for (int i = 0; i < 2; i++) {
            replay.spawnKthread("t" + i, self -> x.writeOnce(x.readOnce() + 1));
        }
        replay.spawnKthread("observer", self -> TestOps.point(self.kernel(), "observe"));
        RunResult again = replay.run();
        assertEquals(original.decisions(), again.decisions());
        assertTrue(again.divergence().isEmpty());

        List<Decision> edited = new ArrayList<>(original.decisions());
        Decision d = edited.get(2);
        edited.set(2, new Decision(d.step(), d.chosen(), d.enabled(),
                new Op(new Op.Kind("something else", Op.Access.WRITE), d.op().target(), "something else")));
        RunResult diverged = replayLostUpdate(edited);
        assertTrue(diverged.divergence().orElse("").startsWith("diverged at step 3"), diverged.divergence().toString());
        assertFalse(diverged.clean());
    }

    @Test
    void replay_comparesKindTargetAndAccess_notLabels() {
        RunResult original = lostUpdate(7, new ArrayList<>()).run();
        int i = 0;
        while (!original.decisions().get(i).op().label().equals("READ_ONCE(x)")) {
            i++;
        }
        Decision d = original.decisions().get(i);

        // The same kind, target and access with another label: the same step.
        List<Decision> relabelled = new ArrayList<>(original.decisions());
        relabelled.set(i, new Decision(d.step(), d.chosen(), d.enabled(),
                new Op(d.op().kind(), new Op.Target(d.op().target().id(), "renamed"), "renamed(op)")));
        RunResult same = replayLostUpdate(relabelled);
        assertTrue(same.divergence().isEmpty(), same.divergence().toString());
        assertEquals(original.decisions(), same.decisions());

        // Another target with the same label: a different object, so a divergence.
        List<Decision> retargeted = new ArrayList<>(original.decisions());
        retargeted.set(i, new Decision(d.step(), d.chosen(), d.enabled(), new Op(d.op().kind(),
                new Op.Target(d.op().target().id() + 100, d.op().target().label()), d.op().label())));
        String diverged = replayLostUpdate(retargeted).divergence().orElse("");
        assertTrue(diverged.startsWith("diverged at step " + d.step() + ": operation '" + d.op().label() + "'"), diverged);
        assertTrue(diverged.contains("on target #" + (d.op().target().id() + 100)), diverged);

        // The same name read instead of written: a different kind.
        List<Decision> reread = new ArrayList<>(original.decisions());
        Op.Access other = d.op().writes() ? Op.Access.READ : Op.Access.WRITE;
        reread.set(i, new Decision(d.step(), d.chosen(), d.enabled(),
                new Op(new Op.Kind(d.op().kind().name(), other), d.op().target(), d.op().label())));
        assertFalse(replayLostUpdate(reread).divergence().isEmpty());
    }

    /** The lost-update run of {@link #replay_reproducesTheRun_andDetectsDivergence} replaying {@code decisions}. */
    private static RunResult replayLostUpdate(List<Decision> decisions) {
        Kernel k2 = Kernel.builder().seed(7).strategy(new ReplayStrategy(decisions)).build();
        Cell<Integer> y = new Cell<>(k2, "x", 0);
        for (int i = 0; i < 2; i++) {
            k2.spawnKthread("t" + i, self -> y.writeOnce(y.readOnce() + 1));
        }
        k2.spawnKthread("observer", self -> TestOps.point(self.kernel(), "observe"));
        return k2.run();
    }

    @Test
    void spawnAndJoin_fromInsideATask() {
        Kernel k = Kernel.controlled(11);
        AtomicT count = new AtomicT(k, "count", 0);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        k.spawnUser("parent", self -> {
            Task child = self.kernel().spawnKthread("child", c -> {
                count.inc();
                order.add("child");
            });
            child.join();
            order.add("parent after join");
            assertEquals(1, count.read());
        });
        RunResult r = k.run();
        assertTrue(r.clean(), () -> r.failures().toString());
        assertEquals(List.of("child", "parent after join"), order);
    }

    @Test
    void virtualTime_advancesOnlyWhenNothingCanRun() {
        Kernel k = Kernel.controlled(5);
        List<Long> times = new ArrayList<>();
        k.spawnKthread("sleeper", self -> {
            self.kernel().runtime().sleep(1_000_000);
            times.add(self.kernel().runtime().nanoTime());
        });
        k.spawnKthread("busy", self -> {
            for (int i = 0; i < 10; i++) {
                TestOps.point(self.kernel(), "work");
            }
            times.add(self.kernel().runtime().nanoTime());
        });
        RunResult r = k.run();
        assertTrue(r.clean());
        assertTrue(times.contains(0L), "busy work takes no virtual time: " + times);
        assertTrue(times.contains(1_000_000L), times.toString());
        assertEquals(1_000_000L, r.virtualNanos());
    }

    @Test
    void severalKernels_runAtOnce() throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<RunResult> results = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 4; i++) {
            long seed = i;
            threads.add(Thread.ofPlatform().start(() -> {
                Kernel k = Kernel.controlled(seed);
                Mutex m = new Mutex(k, "m");
                for (int t = 0; t < 3; t++) {
                    k.spawnKthread("t" + t, self -> { m.lock(); m.unlock(); });
                }
                results.add(k.run());
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(4, results.size());
        results.forEach(r -> assertTrue(r.clean(), r.failures().toString()));
    }
}
