package hmm4j.explore;

import hmm4j.check.Checkers;
import hmm4j.check.lockdep.LockGraph;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.TestOps;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.sync.AtomicT;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.WaitQueueHead;
import java.util.List;

/**
 * The classic small concurrency bugs, written on the substrate, each with the failure kind
 * the explorer must report and the number of preemptions the bug needs; and correct
 * programs the explorer must never fail on.
 */
final class ClassicBugs {
    private ClassicBugs() {
    }

    /** A buggy program, the kind it fails with, and the fewest preemptions that expose it. */
    record Bug(ExploreTarget target, FailureKind kind, int preemptions) {
        @Override
        public String toString() {
            return target.name();
        }
    }

    static List<Bug> all() {
        return List.of(
                new Bug(lostUpdate(), FailureKind.INVARIANT_VIOLATION, 1),
                new Bug(checkThenAct(), FailureKind.INVARIANT_VIOLATION, 1),
                new Bug(abBaLockOrder(), FailureKind.LOCK_ORDER_CYCLE, 0),
                new Bug(lostWakeUp(), FailureKind.DEADLOCK, 1),
                new Bug(orderViolation(), FailureKind.INVARIANT_VIOLATION, 0),
                new Bug(twoPreemptions(), FailureKind.INVARIANT_VIOLATION, 2));
    }

    /** Reports the test's own rule stated as {@code statement} (id {@code test.<statement with dashes>}). */
    static void violation(Kernel k, String statement, String detail) {
        k.report(new Failure.InvariantViolation(testRule(statement), detail, k.site()));
    }

    /** A rule of a test fixture, stated as {@code statement}. */
    static Rule testRule(String statement) {
        return Rule.own("test." + statement.replace(' ', '-'), FailureKind.INVARIANT_VIOLATION, statement);
    }

    /** Two read-modify-write increments of a counter without a lock. */
    static ExploreTarget lostUpdate() {
        return ExploreTarget.of("lost-update", (k, ctx) -> {
            Cell<Integer> count = new Cell<>(k, "count", 0);
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("inc" + i, self -> {
                    int v = count.readOnce();
                    count.writeOnce(v + 1);
                });
            }
            k.atQuiescence("classic bug invariant", () -> {
                if (count.peek() != 2) violation(k, "lost update", "count is " + count.peek() + ", expected 2");
            });
        });
    }

    /** The same increments under a mutex: correct. */
    static ExploreTarget lockedUpdate() {
        return ExploreTarget.of("locked-update", (k, ctx) -> {
            Mutex m = new Mutex(k, "lock");
            Cell<Integer> count = new Cell<>(k, "count", 0);
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("inc" + i, self -> {
                    m.lock();
                    count.writeOnce(count.readOnce() + 1);
                    m.unlock();
                });
            }
            k.atQuiescence("classic bug invariant", () -> {
                if (count.peek() != 2) violation(k, "lost update", "count is " + count.peek() + ", expected 2");
            });
        });
    }

    /** Lazy initialisation tested and done in two steps: two tasks may both initialise. */
    static ExploreTarget checkThenAct() {
        return ExploreTarget.of("check-then-act", (k, ctx) -> {
            Cell<Boolean> initialised = new Cell<>(k, "initialised", false);
            AtomicT inits = new AtomicT(k, "inits", 0);
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("user" + i, self -> {
                    if (!initialised.readOnce()) {
                        inits.inc();
                        initialised.writeOnce(true);
                    }
                });
            }
            k.atQuiescence("classic bug invariant", () -> {
                if (inits.peek() != 1) violation(k, "initialised twice", inits.peek() + " initialisations");
            });
        });
    }

    /** Two tasks take two mutexes in opposite orders; lockdep reports the cycle. */
    static ExploreTarget abBaLockOrder() {
        return ExploreTarget.of("ab-ba", (k, ctx) -> {
            Checkers.install(k, ctx.shared(LockGraph.class, LockGraph::new));
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
        });
    }

    /**
     * Each run takes two mutexes in one order, chosen by the run's randomness: no run holds
     * a cycle, the lock graph shared by the runs of a lane does.
     */
    static ExploreTarget lockOrderAcrossRuns(boolean shareGraph) {
        return ExploreTarget.of("ab-ba-across-runs", (k, ctx) -> {
            Checkers.install(k, shareGraph ? ctx.shared(LockGraph.class, LockGraph::new) : new LockGraph());
            Mutex a = new Mutex(k, "A");
            Mutex b = new Mutex(k, "B");
            boolean abOrder = k.random().nextInt(4) == 0;
            k.spawnKthread("locker", self -> {
                Mutex first = abOrder ? a : b;
                Mutex second = abOrder ? b : a;
                first.lock();
                second.lock();
                second.unlock();
                first.unlock();
            });
        });
    }

    /**
     * A waiter checks a flag and then announces that it sleeps, in two steps; the waker sets
     * the flag and wakes only an announced waiter. A wake-up between the two steps is lost.
     */
    static ExploreTarget lostWakeUp() {
        return ExploreTarget.of("lost-wake-up", (k, ctx) -> {
            Cell<Boolean> ready = new Cell<>(k, "ready", false);
            Cell<Boolean> sleeping = new Cell<>(k, "sleeping", false);
            Cell<Boolean> kicked = new Cell<>(k, "kicked", false);
            WaitQueueHead wq = new WaitQueueHead(k, "wq");
            k.spawnKthread("waiter", self -> {
                if (!ready.readOnce()) {
                    sleeping.writeOnce(true);
                    wq.waitEvent(kicked::peek);
                }
            });
            k.spawnKthread("waker", self -> {
                ready.writeOnce(true);
                if (sleeping.readOnce()) {
                    kicked.writeOnce(true);
                    wq.wakeUpAll();
                }
            });
        });
    }

    /** The waiter sleeps on the flag itself: correct. */
    static ExploreTarget waitOnCondition() {
        return ExploreTarget.of("wait-on-condition", (k, ctx) -> {
            Cell<Boolean> ready = new Cell<>(k, "ready", false);
            WaitQueueHead wq = new WaitQueueHead(k, "wq");
            k.spawnKthread("waiter", self -> wq.waitEvent(ready::peek));
            k.spawnKthread("waker", self -> {
                ready.writeOnce(true);
                wq.wakeUpAll();
            });
        });
    }

    /** A user reads a pointer that an initialiser is meant to publish first. */
    static ExploreTarget orderViolation() {
        return ExploreTarget.of("order-violation", (k, ctx) -> {
            Cell<String> device = new Cell<>(k, "device", null);
            k.spawnKthread("probe", self -> {
                Cell<Integer> config = new Cell<>(k, "config", 0);
                config.writeOnce(1);
                device.writeOnce("dev0");
            });
            k.spawnKthread("open", self -> {
                if (device.readOnce() == null) violation(k, "device used before probe", "device is null");
            });
        });
    }

    /**
     * The reader must see the writer's first value and then its second: the write order
     * W1 R1 W2 R2 needs exactly two preemptions (writer after W1, reader after R1).
     */
    static ExploreTarget twoPreemptions() {
        return ExploreTarget.of("two-preemptions", (k, ctx) -> {
            Cell<Integer> x = new Cell<>(k, "x", 0);
            k.spawnKthread("writer", self -> {
                x.writeOnce(1);
                x.writeOnce(2);
            });
            k.spawnKthread("reader", self -> {
                int first = x.readOnce();
                int second = x.readOnce();
                if (first == 1 && second == 2) violation(k, "torn sequence", "saw 1 then 2");
            });
        });
    }

    /** Two tasks wait for each other's flag forever, each reaching scheduling points: a livelock. */
    static ExploreTarget livelock() {
        return ExploreTarget.of("livelock", (k, ctx) -> {
            Cell<Boolean> never = new Cell<>(k, "never", false);
            for (int i = 0; i < 2; i++) {
                Op relax = TestOps.op(k, "cpu_relax");
                k.spawnKthread("spinner" + i, self -> {
                    while (!never.readOnce()) {
                        self.kernel().point(relax);
                    }
                });
            }
        });
    }

    /** Correct programs: no strategy may ever fail on them. */
    static List<ExploreTarget> correct() {
        return List.of(lockedUpdate(), waitOnCondition());
    }
}
