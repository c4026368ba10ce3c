package hmm4j.sim.report;

import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.WaitQueueHead;

/**
 * The small controlled runs whose text reports are golden files, each on a fixed seed. The
 * exception report prints stack frames of this file with their line numbers: after editing
 * it, regenerate the golden files (see {@link GoldenFile}).
 */
final class GoldenScenarios {
    /** A seed on which the two tasks of {@link #deadlock} each hold their first mutex. */
    static final long DEADLOCK_SEED = 6;
    static final long CLEAN_SEED = 7;
    static final long EXCEPTION_SEED = 9;
    static final long WAITS_SEED = 4;

    private GoldenScenarios() {
    }

    /** Two tasks add to a counter under a mutex: ends clean, counter 2. */
    static RunResult clean() {
        Kernel k = Kernel.controlled(CLEAN_SEED);
        Mutex lock = new Mutex(k, "counter_lock");
        Cell<Integer> counter = new Cell<>(k, "counter", 0);
        for (String name : new String[] {"adder-a", "adder-b"}) {
            k.spawnKthread(name, self -> {
                lock.lock();
                counter.writeOnce(counter.readOnce() + 1);
                lock.unlock();
            });
        }
        return k.run();
    }

    /** AB-BA: one task takes A then B, the other B then A. */
    static RunResult deadlock() {
        Kernel k = Kernel.controlled(DEADLOCK_SEED);
        Mutex a = new Mutex(k, "A");
        Mutex b = new Mutex(k, "B");
        k.spawnKthread("ab", self -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
        });
        k.spawnKthread("ba", self -> {
            b.lock();
            a.lock();
            a.unlock();
            b.unlock();
        });
        return k.run();
    }

    /** A driver task reads a bad mode and throws; a poller runs beside it. */
    static RunResult exception() {
        Kernel k = Kernel.controlled(EXCEPTION_SEED);
        Cell<Integer> mode = new Cell<>(k, "dev->mode", 3);
        k.spawnKthread("probe", self -> {
            mode.readOnce();
            parseMode(mode.readOnce());
        });
        k.spawnKthread("poller", self -> {
            for (int i = 0; i < 3; i++) {
                mode.readOnce();
            }
        });
        return k.run();
    }

    private static void parseMode(int mode) {
        try {
            checkRange(mode);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("bad mode " + mode, e);
        }
    }

    private static void checkRange(int mode) {
        if (mode > 2) {
            throw new IllegalArgumentException("mode " + mode + " out of range 0..2");
        }
    }

    /**
     * Every kind of wait: a consumer on a wait queue woken by a producer, a watchdog whose
     * wait times out, a task waiting for a completion and a task sleeping on the clock.
     */
    static RunResult waits() {
        Kernel k = Kernel.controlled(WAITS_SEED);
        WaitQueueHead wq = new WaitQueueHead(k, "dev->wq");
        Cell<Boolean> ready = new Cell<>(k, "dev->ready", false);
        Completion done = new Completion(k, "dev->done");
        k.spawnKthread("consumer", self -> {
            wq.waitEvent(ready::peek);
            done.complete();
        });
        k.spawnKthread("producer", self -> {
            self.kernel().runtime().sleep(1_000);
            ready.writeOnce(true);
            wq.wakeUpAll();
        });
        k.spawnKthread("watchdog", self -> {
            wq.waitEventTimeout(() -> false, 500);
            done.waitForCompletion();
        });
        return k.run();
    }
}
