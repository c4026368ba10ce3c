package hmm4j.sim.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import hmm4j.sim.LockInstance;
import hmm4j.sim.LockMode;
import hmm4j.sim.RunResult;
import hmm4j.sim.SyncObserver;
import hmm4j.sim.Task;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a lockdep map tells the observer: the modes of its two acquisitions and its releases. */
class LockMapTest {

    @Test
    void acquire_isExclusive_acquireRead_isARecursiveRead_andNeitherIsASchedulingPoint() {
        Kernel k = Kernel.controlled(1);
        List<String> seen = new ArrayList<>();
        k.setSyncObserver(new SyncObserver() {
            @Override
            public void acquire(Task task, LockInstance lock, LockMode mode, boolean trylock) {
                seen.add(task.name() + " acquire " + lock.name() + " " + mode + (trylock ? " trylock" : ""));
            }

            @Override
            public void release(Task task, LockInstance lock) {
                seen.add(task.name() + " release " + lock.name());
            }
        });
        LockMap map = new LockMap(k, "map");
        k.spawnKthread("t", self -> {
            map.acquire();
            map.release();
            map.acquireRead();
            map.acquireRead();
            map.release();
            map.release();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(List.of("t acquire map EXCLUSIVE", "t release map", "t acquire map RECURSIVE_READ",
                "t acquire map RECURSIVE_READ", "t release map", "t release map"), seen);
        assertEquals(List.of("exit"), r.trace().stream().map(e -> e.op()).toList());
        assertTrue(LockMode.RECURSIVE_READ.isRead() && LockMode.SHARED.isRead() && !LockMode.EXCLUSIVE.isRead());
    }
}
