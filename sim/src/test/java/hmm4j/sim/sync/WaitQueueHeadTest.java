package hmm4j.sim.sync;

import static hmm4j.sim.sync.SyncTestSupport.onlyFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.TestOps;
import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class WaitQueueHeadTest {

    @Test
    void waitEvent_wakesOnConditionAfterWakeUpAll() {
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            WaitQueueHead wq = new WaitQueueHead(k, "wq");
            Cell<Boolean> flag = new Cell<>(k, "flag", false);
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 2; i++) {
                String name = "waiter" + i;
                k.spawnKthread(name, self -> {
                    wq.waitEvent(flag::peek);
                    log.add(name);
                });
            }
            k.spawnKthread("waker", self -> {
                TestOps.point(self.kernel(), "work");
                log.add("set");
                flag.writeOnce(true);
                wq.wakeUpAll();
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(3, log.size(), "seed " + seed);
            assertEquals("set", log.get(0), "a waiter passed before the condition was set, seed " + seed);
        }
    }

    @Test
    void waitEventTimeout_returnsZeroOnTimeout() {
        long timeout = 2_000_000L;
        Kernel k = Kernel.controlled(1);
        WaitQueueHead wq = new WaitQueueHead(k, "wq");
        long[] out = new long[3];
        k.spawnKthread("t", self -> {
            out[0] = self.kernel().runtime().nanoTime();
            out[1] = wq.waitEventTimeout(() -> false, timeout);
            out[2] = self.kernel().runtime().nanoTime();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals(0, out[1]);
        assertEquals(timeout, out[2] - out[0]);
    }

    @Test
    void waitEventTimeout_returnsPositiveWhenConditionBecomesTrue() {
        for (long seed = 0; seed < 30; seed++) {
            Kernel k = Kernel.controlled(seed);
            WaitQueueHead wq = new WaitQueueHead(k, "wq");
            Cell<Boolean> flag = new Cell<>(k, "flag", false);
            long[] left = {-1};
            k.spawnKthread("waiter", self -> left[0] = wq.waitEventTimeout(flag::peek, 1_000_000));
            k.spawnKthread("waker", self -> {
                flag.writeOnce(true);
                wq.wakeUpAll();
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertTrue(left[0] > 0, "seed " + seed + ": " + left[0]);
        }
    }

    @Test
    void waiterWithoutWaker_isDeadlockNamingTheWaiter() {
        Kernel k = Kernel.controlled(2);
        WaitQueueHead wq = new WaitQueueHead(k, "wq");
        k.spawnKthread("sleeper", self -> wq.waitEvent(() -> false));
        k.spawnKthread("bystander", self -> TestOps.point(self.kernel(), "nothing"));
        Failure.Deadlock d = onlyFailure(k.run(), Failure.Deadlock.class);
        assertEquals(List.of("sleeper blocked on wait_event(wq) waiting on wq"), d.blocked());
    }
}
