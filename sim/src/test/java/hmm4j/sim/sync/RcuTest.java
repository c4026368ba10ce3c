package hmm4j.sim.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RcuTest {

    @Test
    void readLock_marksAtomicContext_untilUnlock_andNests() {
        Kernel k = Kernel.controlled(1);
        List<Object> seen = new ArrayList<>();
        k.spawnKthread("t", self -> {
            seen.add(self.inAtomicContext());
            Rcu.readLock(k);
            seen.add(self.inAtomicContext());
            seen.add(self.rcuReadDepth());
            seen.add(self.atomicContextDescription());
            Rcu.readLock(k);
            seen.add(self.rcuReadDepth());
            Rcu.readUnlock(k);
            seen.add(self.inAtomicContext());
            Rcu.readUnlock(k);
            seen.add(self.inAtomicContext());
            seen.add(self.rcuReadDepth());
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals(List.<Object>of(false, true, 1, "RCU read-side critical section", 2, true, false, 0), seen);
    }
}
