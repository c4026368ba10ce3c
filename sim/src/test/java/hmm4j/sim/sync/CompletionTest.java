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

class CompletionTest {

    @Test
    void waitBlocksUntilComplete_onEverySeed() {
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            Completion c = new Completion(k, "c");
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            k.spawnKthread("waiter", self -> {
                c.waitForCompletion();
                log.add("woke");
            });
            k.spawnKthread("completer", self -> {
                for (int i = 0; i < 3; i++) TestOps.point(self.kernel(), "work");
                log.add("complete");
                c.complete();
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of("complete", "woke"), log, "seed " + seed);
        }
    }

    @Test
    void completeAll_releasesEveryWaiter() {
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            Completion c = new Completion(k, "c");
            int[] woke = {0};
            for (int i = 0; i < 3; i++) {
                k.spawnKthread("w" + i, self -> {
                    c.waitForCompletion();
                    woke[0]++;
                });
            }
            k.spawnKthread("completer", self -> c.completeAll());
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(3, woke[0], "seed " + seed);
        }
    }

    @Test
    void complete_releasesOnlyOneWaiter() {
        Kernel k = Kernel.controlled(3);
        Completion c = new Completion(k, "c");
        for (int i = 0; i < 2; i++) {
            k.spawnKthread("w" + i, self -> c.waitForCompletion());
        }
        k.spawnKthread("completer", self -> c.complete());
        Failure.Deadlock d = onlyFailure(k.run(), Failure.Deadlock.class);
        assertEquals(1, d.blocked().size(), d.blocked().toString());
        assertTrue(d.blocked().get(0).contains("blocked on wait_for_completion(c)"), d.blocked().toString());
    }

    @Test
    void completeBeforeWait_isNotLost_andTryWaitConsumes() {
        Kernel k = Kernel.controlled(4);
        Completion c = new Completion(k, "c");
        List<Boolean> seen = new ArrayList<>();
        k.spawnKthread("t", self -> {
            seen.add(c.completionDone());
            seen.add(c.tryWaitForCompletion());
            c.complete();
            c.complete();
            seen.add(c.completionDone());
            c.waitForCompletion();
            seen.add(c.tryWaitForCompletion());
            seen.add(c.tryWaitForCompletion());
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals(List.of(false, false, true, true, false), seen);
    }

    @Test
    void waitTimeout_returnsZeroAndAdvancesVirtualTime_whenNobodyCompletes() {
        long timeout = 5_000_000_000L; // five virtual seconds
        Kernel k = Kernel.controlled(5);
        Completion c = new Completion(k, "c");
        long[] out = new long[3];
        k.spawnKthread("t", self -> {
            out[0] = self.kernel().runtime().nanoTime();
            out[1] = c.waitForCompletionTimeout(timeout);
            out[2] = self.kernel().runtime().nanoTime();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals(0, out[1]);
        assertEquals(timeout, out[2] - out[0], "virtual time must advance by exactly the timeout");
        assertTrue(r.virtualNanos() >= timeout);
    }

    @Test
    void waitTimeout_returnsRemainingTime_whenCompleted() {
        for (long seed = 0; seed < 20; seed++) {
            Kernel k = Kernel.controlled(seed);
            Completion c = new Completion(k, "c");
            long[] left = {-1};
            k.spawnKthread("waiter", self -> left[0] = c.waitForCompletionTimeout(1_000_000));
            k.spawnKthread("completer", self -> c.complete());
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertTrue(left[0] > 0 && left[0] <= 1_000_000, "seed " + seed + ": " + left[0]);
        }
    }
}
