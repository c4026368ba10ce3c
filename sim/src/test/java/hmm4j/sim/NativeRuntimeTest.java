package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.Mutex;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class NativeRuntimeTest {

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void mutex_protectsCounter_acrossRealThreads() {
        Kernel k = Kernel.nativeRuntime();
        assertFalse(k.runtime().isControlled());
        Mutex m = new Mutex(k, "m");
        int[] counter = {0};
        for (int i = 0; i < 4; i++) {
            k.spawnKthread("t" + i, self -> {
                for (int j = 0; j < 1000; j++) {
                    m.lock();
                    counter[0]++;
                    m.unlock();
                }
            });
        }
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals("native", r.strategy());
        m.lock(); // main thread, after the run: the lock is free and its monitor orders the reads
        try {
            assertEquals(4000, counter[0]);
        } finally {
            m.unlock();
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void abbaDeadlock_isReported_andRunReturns() {
        Kernel k = Kernel.builder().nativeRuntime().wallTimeoutMillis(500).build();
        Mutex a = new Mutex(k, "A");
        Mutex b = new Mutex(k, "B");
        Completion aHeld = new Completion(k, "aHeld");
        Completion bHeld = new Completion(k, "bHeld");
        k.spawnKthread("ab", self -> {
            a.lock();
            aHeld.complete();
            bHeld.waitForCompletion();
            b.lock();
            b.unlock();
            a.unlock();
        });
        k.spawnKthread("ba", self -> {
            b.lock();
            bHeld.complete();
            aHeld.waitForCompletion();
            a.lock();
            a.unlock();
            b.unlock();
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures()::toString);
        Failure.Deadlock d = assertInstanceOf(Failure.Deadlock.class, r.failures().get(0));
        assertEquals(2, d.blocked().size(), d.blocked().toString());
        assertTrue(d.blocked().stream().anyMatch(s -> s.startsWith("ab blocked on mutex_lock(B)")), d.blocked().toString());
        assertTrue(d.blocked().stream().anyMatch(s -> s.startsWith("ba blocked on mutex_lock(A)")), d.blocked().toString());
    }
}
