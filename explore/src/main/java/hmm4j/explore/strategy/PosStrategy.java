package hmm4j.explore.strategy;

import hmm4j.sim.HiddenFromSites;
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
 * operation named at its last scheduling point ({@code mutex_lock(m)}, {@code block ...},
 * {@code start} before its first point). When a task reaches a point, the operation it
 * stopped at before has just run.
 *
 * <p>Differences from the paper: two operations race when they name the same object, the
 * text between the parentheses of the operation ({@code m} in {@code mutex_lock(m)}); reads
 * and writes are not told apart, so every access counts as a write, which re-samples more
 * often than needed but never misses a race between named objects.
 */
@HiddenFromSites
public final class PosStrategy implements Strategy {
    private final long seed;
    private final SplittableRandom random;
    private final Map<Integer, Double> priority = new HashMap<>();
    private final Map<Integer, String> pending = new HashMap<>();

    public PosStrategy(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(Seeds.mix(seed, 0x504F_53L));
    }

    @Override
    public int pick(SchedulingPoint point) {
        Task from = point.current();
        if (from != null) {
            String ran = pending.get(from.id());
            String object = ran == null ? null : object(ran);
            if (object != null) {
                for (Map.Entry<Integer, String> e : pending.entrySet()) {
                    if (e.getKey() != from.id() && object.equals(object(e.getValue()))) {
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
                pending.put(t.id(), "start");
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

    /** The object an operation names: the text inside its first parentheses, or null. */
    static String object(String op) {
        int open = op.indexOf('(');
        if (open < 0) {
            return null;
        }
        int close = op.indexOf(')', open + 1);
        return close < 0 ? null : op.substring(open + 1, close);
    }

    @Override
    public String describe() {
        return "pos(seed=" + seed + ")";
    }
}
