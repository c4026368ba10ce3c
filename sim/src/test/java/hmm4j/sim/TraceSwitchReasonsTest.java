package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.TraceEvent.Kind;
import hmm4j.sim.TraceEvent.SwitchReason;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SrcuStruct;
import hmm4j.sim.sync.WaitQueueHead;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The trace records every context switch with its reason, every block with what it waits
 * for (a lock's holders by name, a queue, SRCU readers), every wake-up with its waker, and
 * numbers events by the decision taken at them.
 */
class TraceSwitchReasonsTest {

    /** {@code task kind op [detail] [woken by] [-> switch]} per event of {@code task}. */
    private static List<String> eventsOf(RunResult r, String task) {
        return r.trace().stream().filter(e -> e.task().equals(task)).map(TraceSwitchReasonsTest::line).toList();
    }

    private static String line(TraceEvent e) {
        return e.kind() + " " + (e.detail().isEmpty() ? e.op() : e.detail())
                + e.wokenBy().map(w -> " by " + w).orElse("")
                + e.switchTo().map(s -> " -> " + s.toTask() + " (" + s.reason().label() + ")").orElse("");
    }

    @Test
    void blockOnAMutex_namesTheHolder_andTheWakeUpNamesTheWaker() {
        Kernel k = Kernel.builder().strategy(new ScriptedStrategy("holder", "holder", "waiter", "waiter", "holder",
                "holder", "waiter")).build();
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("holder", self -> {
            m.lock();
            TestOps.point(self.kernel(), "work");
            m.unlock();
        });
        k.spawnKthread("waiter", self -> {
            m.lock();
            m.unlock();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(List.of(
                "OPERATION mutex_lock(m)",
                "OPERATION work -> waiter (preempted)",
                "OPERATION mutex_unlock(m)",
                "EXIT exit -> waiter (exited)"), eventsOf(r, "holder"));
        assertEquals(List.of(
                "OPERATION mutex_lock(m)",
                "BLOCKED mutex_lock(m) held by holder -> holder (blocked)",
                "WOKEN mutex_lock(m) held by holder by holder",
                "OPERATION mutex_unlock(m)",
                "EXIT exit"), eventsOf(r, "waiter"));
    }

    @Test
    void waiterThatLosesTheRace_blocksAgainNamingTheNewHolder() {
        Kernel k = Kernel.builder().strategy(new ScriptedStrategy("holder", "holder", "a", "a", "b", "b", "holder",
                "holder", "a", "b", "a")).build();
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("holder", self -> {
            m.lock();
            TestOps.point(self.kernel(), "hold");
            m.unlock();
        });
        k.spawnKthread("a", self -> {
            m.lock();
            TestOps.point(self.kernel(), "in a");
            m.unlock();
        });
        k.spawnKthread("b", self -> {
            m.lock();
            m.unlock();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(List.of(
                "OPERATION mutex_lock(m)",
                "BLOCKED mutex_lock(m) held by holder -> holder (blocked)",
                "WOKEN mutex_lock(m) held by holder by holder",
                "BLOCKED mutex_lock(m) held by a -> a (blocked)",
                "WOKEN mutex_lock(m) held by a by a",
                "OPERATION mutex_unlock(m)",
                "EXIT exit"), eventsOf(r, "b"));
    }

    @Test
    void blockOnAnRwSemaphore_namesTheReaders_andTheWaitingWriter() {
        Kernel k = Kernel.builder().strategy(new ScriptedStrategy("r1", "r1", "r2", "r2", "w", "w", "late", "late"))
                .build();
        RwSemaphore sem = new RwSemaphore(k, "mmap_lock");
        for (String name : new String[] {"r1", "r2"}) {
            k.spawnKthread(name, self -> {
                sem.downRead();
                TestOps.point(self.kernel(), "read side");
                sem.upRead();
            });
        }
        k.spawnKthread("w", self -> {
            sem.downWrite();
            sem.upWrite();
        });
        k.spawnKthread("late", self -> {
            sem.downRead();
            sem.upRead();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals("BLOCKED down_write(mmap_lock) held for read by r1, r2 -> late (blocked)", eventsOf(r, "w").get(1));
        assertEquals("BLOCKED down_read(mmap_lock) held for read by r1, r2, queued behind a waiting writer -> r1 (blocked)",
                eventsOf(r, "late").get(1));
    }

    @Test
    void synchronizeSrcu_namesTheReadersInTheWay_asTheyLeave() {
        Kernel k = Kernel.builder().strategy(new ScriptedStrategy("r1", "r1", "r2", "r2", "sync", "sync", "r1", "r1",
                "sync")).build();
        SrcuStruct srcu = new SrcuStruct(k, "s");
        for (String name : new String[] {"r1", "r2"}) {
            k.spawnKthread(name, self -> {
                int idx = srcu.readLock();
                TestOps.point(self.kernel(), "read side");
                srcu.readUnlock(idx);
            });
        }
        k.spawnKthread("sync", self -> srcu.synchronizeSrcu());
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(List.of(
                "OPERATION synchronize_srcu(s)",
                "BLOCKED synchronize_srcu(s) waiting for readers r1, r2 -> r1 (blocked)",
                "WOKEN synchronize_srcu(s) waiting for readers r1, r2 by r1",
                "BLOCKED synchronize_srcu(s) waiting for readers r2 -> r2 (blocked)",
                "WOKEN synchronize_srcu(s) waiting for readers r2 by r2",
                "EXIT exit"), eventsOf(r, "sync"));
    }

    @Test
    void waitWithATimeout_andMsleep_areWokenByTheClock() {
        Kernel k = Kernel.controlled(1);
        WaitQueueHead wq = new WaitQueueHead(k, "wq");
        k.spawnKthread("waiter", self -> assertEquals(0, wq.waitEventTimeout(() -> false, 500)));
        k.spawnKthread("sleeper", self -> self.kernel().runtime().sleep(1_000));
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        List<String> waiter = eventsOf(r, "waiter");
        assertTrue(waiter.get(1).startsWith("BLOCKED wait_event_timeout(wq) waiting on wq"), waiter.toString());
        assertEquals("TIMED_OUT wait_event_timeout(wq) waiting on wq", waiter.get(2));
        List<String> sleeper = eventsOf(r, "sleeper");
        assertTrue(sleeper.get(1).startsWith("SLEEPING msleep until 1000 ns"), sleeper.toString());
        assertEquals("WOKEN msleep until 1000 ns", sleeper.get(2));
        TraceEvent sleeping = r.trace().stream().filter(e -> e.kind() == Kind.SLEEPING).findFirst().orElseThrow();
        sleeping.switchTo().ifPresent(s -> assertEquals(SwitchReason.SLEEPING, s.reason()));
    }

    @Test
    void everyDecision_isTheStepOfOneEvent_andEverySwitchCarriesItsTarget() {
        for (long seed = 0; seed < 40; seed++) {
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
            assertTrue(r.clean(), r.failures().toString());
            long last = 0;
            for (TraceEvent e : r.trace()) {
                assertTrue(e.step() >= last, "steps never decrease: " + r.trace());
                last = e.step();
            }
            // The last task's exit takes no decision: it stays in the step of the one before.
            TraceEvent finalExit = r.trace().get(r.trace().size() - 1);
            assertEquals(Kind.EXIT, finalExit.kind());
            assertEquals(r.steps(), finalExit.step());
            for (Decision d : r.decisions().subList(1, r.decisions().size())) {
                List<TraceEvent> at = r.trace().stream().filter(e -> e.step() == d.step() && e != finalExit
                        && e.kind() != Kind.WOKEN && e.kind() != Kind.TIMED_OUT).toList();
                assertEquals(1, at.size(), "seed " + seed + " step " + d.step() + ": " + at);
                TraceEvent e = at.get(0);
                Optional<TraceEvent.Switch> sw = e.switchTo();
                if (d.chosen() == e.taskId()) {
                    assertFalse(sw.isPresent(), e.toString());
                } else {
                    assertEquals(d.chosen(), sw.orElseThrow().toTaskId(), e.toString());
                    assertEquals(e.kind() == Kind.OPERATION ? SwitchReason.PREEMPTED
                            : e.kind() == Kind.EXIT ? SwitchReason.EXITED : SwitchReason.BLOCKED,
                            sw.get().reason(), e.toString());
                }
                // The event carries the decision's typed operation; an operation's text is its label.
                assertEquals(Optional.of(d.op()), e.operation(), e.toString());
                if (e.kind() == Kind.OPERATION) {
                    assertEquals(d.op().label(), e.op());
                }
            }
        }
    }

    @Test
    void eventsBuiltFromTheirText_getTheirKind() {
        assertEquals(Kind.BLOCKED, new TraceEvent(3, 1, "t", "blocked: mutex_lock(m) held by u", "").kind());
        assertEquals("mutex_lock(m) held by u", new TraceEvent(3, 1, "t", "blocked: mutex_lock(m) held by u", "")
                .detail());
        assertEquals(Kind.EXIT, new TraceEvent(3, 1, "t", "exit", "").kind());
        assertEquals(Kind.OPERATION, new TraceEvent(3, 1, "t", "spin_lock(s)", "").kind());
        assertEquals("", new TraceEvent(3, 1, "t", "spin_lock(s)", "").detail());
    }
}
