package hmm4j.explore.report;

import hmm4j.check.Checkers;
import hmm4j.check.lifetime.KObject;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;

/**
 * Small controlled runs on fixed seeds whose HTML and trace-event renderings the tests
 * check: a use-after-free found by the lifetime sanitizer, an AB-BA deadlock and a clean
 * run with a blocked task. Reports show frames of this file with their line numbers: after
 * editing it, regenerate the golden files (see {@link hmm4j.sim.report.GoldenFile}).
 */
final class ReportRuns {
    static final long USE_AFTER_FREE_SEED = 7;
    static final long DEADLOCK_SEED = 6;
    static final long CLEAN_SEED = 7;

    private ReportRuns() {
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

    /** A device task reads a mirror that a teardown task frees without waiting for it. */
    static RunResult useAfterFree() {
        Kernel k = Kernel.controlled(USE_AFTER_FREE_SEED);
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
        return expect(k.run(), FailureKind.USE_AFTER_FREE);
    }

    /** AB-BA on two mutexes, on a seed where each task holds its first one. */
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
        return expect(k.run(), FailureKind.DEADLOCK);
    }

    /** Two tasks add to a counter under a mutex; one blocks on the other and is woken. */
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
        RunResult r = k.run();
        if (!r.clean()) {
            throw new AssertionError("seed " + CLEAN_SEED + " is no longer clean: " + r.failures());
        }
        return r;
    }

    private static RunResult expect(RunResult r, FailureKind kind) {
        if (r.firstFailure().map(f -> f.kind() != kind).orElse(true)) {
            throw new AssertionError("seed " + r.seed() + " no longer gives " + kind + ": " + r.failures()
                    + "; pick another seed");
        }
        return r;
    }
}
