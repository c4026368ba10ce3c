package hmm4j.explore.strategy;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Op;
import hmm4j.sim.SchedulingPoint;
import hmm4j.sim.Strategy;
import hmm4j.sim.Task;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Partial order sampling: every task's pending operation carries a random priority, the
 * enabled task whose pending operation has the highest priority runs, and when an operation
 * has run, the pending operations of other tasks that race with it (touch the same object)
 * get fresh priorities. Compared with a random walk this samples the partial orders of
 * racing operations far more evenly: an operation that races with nothing keeps its
 * priority and does not dilute the choices that matter.
 *
 * <p>Overview: follows Yuan, Yang and Gu, "Partial Order Aware Concurrency Sampling"
 * (CAV 2018), the POS algorithm. A task's pending operation is the one it stopped at: the
 * {@link Op} of its last scheduling point ({@code mutex_lock(m)}, a {@code block}, its
 * {@linkplain Task#startOp() start} before its first point). When a task reaches a point,
 * the operation it stopped at before has just run.
 *
 * <p>Racing: two operations race when they act on the same target (the same object, by its
 * number within the kernel, whatever its label) and at least one of them writes
 * ({@link Op#racesWith}), the racing operations of the paper and of Fray's POS. Locks,
 * unlocks and read-modify-write atomics write; {@code READ_ONCE}, {@code atomic_read} and
 * waiting read. So two {@code READ_ONCE}s of one sequence do not race, and the reads of two
 * subscriptions' sequences, labelled alike, are reads of two objects.
 *
 * <p>Differences from the paper: its events are memory accesses, racing on one address;
 * here the targets are the model's objects (a lock, a cell, a page, an address space, a
 * task), so every operation on an object counts, and every lock operation is a write: two
 * {@code down_read}s of one rwsem race although they commute, which re-samples more often
 * than needed but never misses a race. Control operations have targets too: a {@code join}
 * reads the joined task and its {@code exit} writes it, so they race; a {@code block} reads
 * what it waits for, so the release that wakes it re-samples its priority. A blocked task
 * keeps its pending operation and its priority while it cannot run.
 */
@HiddenFromSites
public final class PosStrategy implements Strategy {
    private final long seed;
    private final SplittableRandom random;
    private final Map<Integer, Double> priority = new HashMap<>();
    private final Map<Integer, Op> pending = new HashMap<>();

    public PosStrategy(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(Seeds.mix(seed, 0x504F_53L));
    }

    @Override
    public int pick(SchedulingPoint point) {
        Task from = point.current();
        if (from != null) {
            Op ran = pending.get(from.id());
            if (ran != null) {
                for (Map.Entry<Integer, Op> e : pending.entrySet()) {
                    if (e.getKey() != from.id() && ran.racesWith(e.getValue())) {
                        priority.put(e.getKey(), random.nextDouble());
                    }
                }
            }
            pending.put(from.id(), point.op());
            priority.put(from.id(), random.nextDouble());
        }
        List<Task> enabled = point.enabled();
        int best = 0;
        double bestPriority = -1;
        for (int i = 0; i < enabled.size(); i++) {
            Task t = enabled.get(i);
            if (!pending.containsKey(t.id())) {
                pending.put(t.id(), t.startOp());
                priority.put(t.id(), random.nextDouble());
            }
            double p = priority.get(t.id());
            if (p > bestPriority) {
                best = i;
                bestPriority = p;
            }
        }
        return best;
    }

    /** The current priority of task {@code taskId}'s pending operation, or NaN before it has one (for tests). */
    double priority(int taskId) {
        return priority.getOrDefault(taskId, Double.NaN);
    }

    @Override
    public String describe() {
        return "pos(seed=" + seed + ")";
    }
}
