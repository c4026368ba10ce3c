package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.TaskBody;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.Rcu;
import hmm4j.sim.sync.SpinLock;
import hmm4j.sim.sync.SrcuStruct;
import hmm4j.sim.sync.WaitQueueHead;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** might_sleep: sleeping calls are illegal under a spinlock, in RCU and in non-block sections. */
class SleepInAtomicTest {

    /** Runs one task whose body is built from the kernel and a mutex "m". */
    private static RunResult run(Function<Kernel, TaskBody> body) {
        Kernel k = Kernel.controlled(5);
        Checkers.install(k);
        k.spawnKthread("sleeper", body.apply(k));
        return k.run();
    }

    private static Failure.SleepInAtomic sleepInAtomic(RunResult r) {
        assertEquals(1, r.failures().size(), r.failures().toString());
        return assertInstanceOf(Failure.SleepInAtomic.class, r.failures().get(0));
    }

    @Test
    void mutexLock_underSpinLock_isReported() {
        Failure.SleepInAtomic f = sleepInAtomic(run(k -> {
            SpinLock s = new SpinLock(k, "s");
            Mutex m = new Mutex(k, "m");
            return self -> {
                s.lock();
                m.lock();
            };
        }));
        assertEquals("mutex_lock(m)", f.operation());
        assertTrue(f.context().startsWith("atomic context (spinlock held): s taken at sleeper @ step "), f.context());
        assertTrue(f.context().contains("SleepInAtomicTest.lambda$"), "the spin_lock's site: " + f.context());
        assertEquals("sleeper", f.site().task());
        assertTrue(f.site().where().startsWith("SleepInAtomicTest.lambda$"), f.site().toString());
    }

    @Test
    void mutexLock_afterSpinUnlock_isClean() {
        RunResult r = run(k -> {
            SpinLock s = new SpinLock(k, "s");
            Mutex m = new Mutex(k, "m");
            return self -> {
                s.lock();
                s.unlock();
                m.lock();
                m.unlock();
            };
        });
        assertTrue(r.clean(), r.failures().toString());
    }

    @Test
    void mutexLock_inRcuReadSide_isReported() {
        Failure.SleepInAtomic f = sleepInAtomic(run(k -> {
            Mutex m = new Mutex(k, "m");
            return self -> {
                Rcu.readLock(k);
                m.lock();
            };
        }));
        assertEquals("RCU read-side critical section", f.context());
    }

    @Test
    void mutexLock_inNonBlockSection_isReported() {
        Failure.SleepInAtomic f = sleepInAtomic(run(k -> {
            Mutex m = new Mutex(k, "m");
            return self -> {
                self.nonBlockStart();
                m.lock();
            };
        }));
        assertEquals("non-blocking section (non_block_start)", f.context());
    }

    @Test
    void waitEvent_underSpinLock_isReported() {
        Failure.SleepInAtomic f = sleepInAtomic(run(k -> {
            SpinLock s = new SpinLock(k, "s");
            WaitQueueHead wq = new WaitQueueHead(k, "wq");
            return self -> {
                s.lock();
                wq.waitEvent(() -> true);
            };
        }));
        assertEquals("wait_event(wq)", f.operation());
    }

    @Test
    void mutexLock_inSrcuReadSide_isClean() {
        RunResult r = run(k -> {
            SrcuStruct srcu = new SrcuStruct(k, "notifier_srcu");
            Mutex m = new Mutex(k, "m");
            return self -> {
                int idx = srcu.readLock();
                m.lock();
                m.unlock();
                srcu.readUnlock(idx);
            };
        });
        assertTrue(r.clean(), r.failures().toString());
    }
}
