package hmm4j.check.report;

import hmm4j.check.Checkers;
import hmm4j.check.lifetime.KObject;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;

/**
 * Small controlled runs with the checkers installed, on fixed seeds, whose reports are
 * golden files: a use-after-free found by the lifetime sanitizer and a lock-order cycle
 * found by lockdep without a deadlock. The reports print frames of this file with their
 * line numbers: after editing it, regenerate the golden files (see {@link hmm4j.sim.report.GoldenFile}).
 */
final class CheckerReportScenarios {
    /** A seed on which the device reads the mirror after teardown freed it. */
    static final long USE_AFTER_FREE_SEED = 7;
    static final long LOCK_ORDER_SEED = 3;

    private CheckerReportScenarios() {
    }

    /** A driver object with a lifetime, read through a checked accessor. */
    static final class Mirror extends KObject {
        private final Cell<Long> pfn;

        Mirror(Kernel kernel, String name) {
            super(kernel, name);
            this.pfn = new Cell<>(kernel, name + "->pfn", 0L);
        }

        long readPfn() {
            checkAccess("read " + name() + "->pfn");
            return pfn.readOnce();
        }
    }

    /**
     * A probe allocates a mirror, then a device task reads it twice while a teardown task
     * frees it without waiting for the device: a use-after-free on schedules where the free
     * comes first.
     */
    static RunResult useAfterFree(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        k.spawnKthread("probe", self -> {
            Mirror mirror = new Mirror(k, "mirror#1");
            Task device = k.spawnKthread("device", t -> {
                mirror.readPfn();
                mirror.readPfn();
            });
            Task teardown = k.spawnKthread("teardown", t -> mirror.kfree());
            device.join();
            teardown.join();
        });
        return k.run();
    }

    /** t1 takes a then b; t2, after t1 has finished, takes b then a: no deadlock, a cycle. */
    static RunResult lockOrder(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        Mutex a = new Mutex(k, "A", "a#1");
        Mutex b = new Mutex(k, "B", "b#1");
        Task t1 = k.spawnKthread("t1", self -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
        });
        k.spawnKthread("t2", self -> {
            t1.join();
            b.lock();
            a.lock();
            a.unlock();
            b.unlock();
        });
        return k.run();
    }
}
