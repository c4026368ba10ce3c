package hmm4j.sim.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AtomicTTest {

    @Test
    void operations_haveKernelSemantics() {
        Kernel k = Kernel.controlled(1);
        AtomicT a = new AtomicT(k, "a", 5);
        AtomicT z = new AtomicT(k, "z", 0);
        List<Object> seen = new ArrayList<>();
        k.spawnKthread("t", self -> {
            seen.add(a.cmpxchg(5, 7));   // success: returns old 5
            seen.add(a.read());          // 7
            seen.add(a.cmpxchg(5, 9));   // failure: returns current 7, no change
            seen.add(a.read());          // 7
            seen.add(a.xchg(3));         // 7
            seen.add(a.addReturn(4));    // 7
            seen.add(a.incReturn());     // 8
            seen.add(a.decReturn());     // 7
            a.inc();
            a.dec();
            a.dec();
            seen.add(a.read());          // 6
            seen.add(z.incNotZero());    // false
            seen.add(z.read());          // 0
            seen.add(a.incNotZero());    // true
            seen.add(a.read());          // 7
            a.set(2);
            seen.add(a.decAndTest());    // false (1)
            seen.add(a.decAndTest());    // true (0)
            seen.add(a.decAndTest());    // false (-1): atomic_t has no underflow check
            seen.add(a.peek());          // -1
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals(List.<Object>of(5, 7, 7, 7, 7, 7, 8, 7, 6, false, 0, true, 7, false, true, false, -1), seen);
    }

    @Test
    void concurrentIncrements_areNotLost_onEverySeed() {
        for (long seed = 0; seed < 100; seed++) {
            Kernel k = Kernel.controlled(seed);
            AtomicT a = new AtomicT(k, "a", 0);
            for (int i = 0; i < 3; i++) {
                k.spawnKthread("t" + i, self -> {
                    a.inc();
                    a.incReturn();
                });
            }
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(6, a.peek(), "seed " + seed);
        }
    }

    @Test
    void cmpxchgLoop_elects_exactlyOneWinner() {
        for (long seed = 0; seed < 100; seed++) {
            Kernel k = Kernel.controlled(seed);
            AtomicT owner = new AtomicT(k, "owner", 0);
            int[] winners = {0};
            for (int i = 1; i <= 3; i++) {
                int id = i;
                k.spawnKthread("t" + i, self -> {
                    if (owner.cmpxchg(0, id) == 0) winners[0]++;
                });
            }
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(1, winners[0], "seed " + seed);
            assertTrue(owner.peek() >= 1 && owner.peek() <= 3);
        }
    }
}
