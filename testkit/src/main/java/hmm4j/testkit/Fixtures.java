package hmm4j.testkit;

import hmm4j.check.Checkers;
import hmm4j.check.lifetime.KObject;
import hmm4j.check.lockdep.LockGraph;
import hmm4j.explore.ExploreTarget;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;

/**
 * The small programs a concurrency checker is first tried on, as explorer targets with the
 * checkers installed (lockdep sharing the exploration's lock graph, so a cycle spread over
 * two runs is found): each bad one with the failure it must be caught with, and the fixed
 * one that must stay clean. A user's test of the kit, or of a strategy, starts here.
 */
public final class Fixtures {
    /** The rule {@link #lostUpdate} breaks: a user's own rule, declared as a driver's would be. */
    public static final Rule NO_LOST_UPDATE = Rule.own("fixture.no-lost-update", FailureKind.INVARIANT_VIOLATION,
            "two increments of the counter leave it at 2");

    private Fixtures() {
    }

    /** A driver-like object with a lifetime: its field is read through the sanitizer's access check. */
    public static final class Probe extends KObject {
        private final Cell<Long> value;

        public Probe(Kernel kernel, String name) {
            super(kernel, name);
            this.value = new Cell<>(kernel, name + "->value", 0L);
        }

        /** Reads the field: a use-after-free report if the probe was freed. */
        public long read() {
            checkAccess("read " + name() + "->value");
            return value.readOnce();
        }
    }

    /** Installs the checkers on a run of a target, lockdep sharing the exploration's graph. */
    private static ExploreTarget checked(String name, ExploreTarget.Setup body) {
        return ExploreTarget.of(name, (k, ctx) -> {
            Checkers.install(k, ctx.shared(LockGraph.class, LockGraph::new));
            body.setUp(k, ctx);
        });
    }

    /** Two kernel threads take two mutexes in opposite orders: a lock-order cycle, with or without the deadlock. */
    public static ExploreTarget abBa() {
        return checked("ab-ba", (k, ctx) -> {
            Mutex a = new Mutex(k, "A");
            Mutex b = new Mutex(k, "B");
            k.spawnKthread("ab", self -> inOrder(a, b));
            k.spawnKthread("ba", self -> inOrder(b, a));
        });
    }

    /** Both threads take the two mutexes in the same order: clean. */
    public static ExploreTarget sameOrder() {
        return checked("same-order", (k, ctx) -> {
            Mutex a = new Mutex(k, "A");
            Mutex b = new Mutex(k, "B");
            k.spawnKthread("ab", self -> inOrder(a, b));
            k.spawnKthread("ab2", self -> inOrder(a, b));
        });
    }

    private static void inOrder(Mutex first, Mutex second) {
        first.lock();
        second.lock();
        second.unlock();
        first.unlock();
    }

    /**
     * Two threads increment a counter with a {@code READ_ONCE} then a {@code WRITE_ONCE}, no
     * lock: an update is lost when one runs between the other's read and write, reported at
     * the end of the run as a violation of {@link #NO_LOST_UPDATE}.
     */
    public static ExploreTarget lostUpdate() {
        return counter("lost-update", false);
    }

    /** The same increments under a mutex: clean. */
    public static ExploreTarget lockedUpdate() {
        return counter("locked-update", true);
    }

    private static ExploreTarget counter(String name, boolean locked) {
        return checked(name, (k, ctx) -> {
            Mutex lock = new Mutex(k, "counter_lock");
            Cell<Integer> count = new Cell<>(k, "count", 0);
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("inc" + i, self -> {
                    if (locked) {
                        lock.lock();
                    }
                    int v = count.readOnce();
                    count.writeOnce(v + 1);
                    if (locked) {
                        lock.unlock();
                    }
                });
            }
            k.atQuiescence(NO_LOST_UPDATE.id(), () -> {
                if (count.peek() != 2) {
                    k.report(new Failure.InvariantViolation(NO_LOST_UPDATE,
                            "count is " + count.peek() + " after two increments", k.site()));
                }
            });
        });
    }

    /**
     * A probe object is read twice by a device thread while a teardown thread frees it
     * without waiting for the device: a use-after-free on the schedules where the free comes
     * first, reported at the read with the probe's allocation and free sites.
     */
    public static ExploreTarget useAfterFreeProbe() {
        return probe("use-after-free-probe", false);
    }

    /** The teardown waits for the device before freeing the probe: clean. */
    public static ExploreTarget joinedProbe() {
        return probe("joined-probe", true);
    }

    private static ExploreTarget probe(String name, boolean waitForDevice) {
        return checked(name, (k, ctx) -> k.spawnKthread("probe", self -> {
            Probe probe = new Probe(k, "probe#1");
            Task device = k.spawnKthread("device", t -> {
                probe.read();
                probe.read();
            });
            Task teardown = k.spawnKthread("teardown", t -> {
                if (waitForDevice) {
                    device.join();
                }
                probe.kfree();
            });
            device.join();
            teardown.join();
        }));
    }
}
