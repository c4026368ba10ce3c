package hmm4j.explore.strategy;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.SchedulingPoint;
import hmm4j.sim.Strategy;
import hmm4j.sim.Task;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Probabilistic concurrency testing with bug depth {@code d}: every task gets a random
 * priority when it first appears, the enabled task with the highest priority always runs,
 * and at {@code d - 1} steps chosen at random among the first {@code steps} the running
 * task's priority drops below every initial priority. A bug that needs {@code d} ordering
 * constraints is found with probability at least {@code 1 / (n * k^(d-1))} per run, for
 * {@code n} tasks and {@code k} steps.
 *
 * <p>Overview: follows Burckhardt, Kothari, Musuvathi and Nagarakatte, "A Randomized
 * Scheduler with Probabilistic Guarantees of Finding Bugs" (ASPLOS 2010). Initial priorities
 * are random values of at least {@code d}; the {@code i}-th change point (from 1) gives
 * priority {@code d - i}, below every initial priority and below every earlier change. The
 * run length {@code steps} is an estimate the explorer measures once per exploration; a
 * change point beyond the actual run is simply never reached.
 *
 * <p>Differences from the paper: tasks created during the run get their random priority
 * when first seen at a scheduling point instead of at creation; the lowering happens
 * before the chosen step (the task is preempted at the change point) rather than after it.
 */
@HiddenFromSites
public final class PctStrategy implements Strategy {
    private final int depth;
    private final long steps;
    private final long seed;
    private final SplittableRandom random;
    private final long[] changePoints;
    private final Map<Integer, Long> priority = new HashMap<>();

    /**
     * @param depth bug depth {@code d} (at least 1): {@code d - 1} priority change points
     * @param steps the estimated number of scheduling decisions of a run (at least 1)
     * @param seed  the seed of the priorities and change points
     */
    public PctStrategy(int depth, long steps, long seed) {
        if (depth < 1) throw new IllegalArgumentException("depth must be at least 1: " + depth);
        if (steps < 1) throw new IllegalArgumentException("steps must be at least 1: " + steps);
        this.depth = depth;
        this.steps = steps;
        this.seed = seed;
        this.random = new SplittableRandom(Seeds.mix(seed, 0x5043_5453L));
        this.changePoints = sampleChangePoints(depth - 1, steps, random);
    }

    /** {@code count} distinct steps in {@code [1, steps]}, ascending (all of them when fewer). */
    private static long[] sampleChangePoints(int count, long steps, SplittableRandom random) {
        if (count >= steps) {
            long[] all = new long[(int) steps];
            Arrays.setAll(all, i -> i + 1);
            return all;
        }
        // Floyd's sampling: count distinct values without a set of size steps.
        long[] picked = new long[count];
        int n = 0;
        for (long j = steps - count + 1; j <= steps; j++) {
            long t = 1 + random.nextLong(j);
            boolean seen = false;
            for (int i = 0; i < n; i++) {
                if (picked[i] == t) {
                    seen = true;
                    break;
                }
            }
            picked[n++] = seen ? j : t;
        }
        Arrays.sort(picked);
        return picked;
    }

    @Override
    public int pick(SchedulingPoint point) {
        List<Task> enabled = point.enabled();
        for (Task t : enabled) {
            priority.computeIfAbsent(t.id(), id -> depth + (long) random.nextInt(1 << 30));
        }
        int best = highest(enabled);
        int change = Arrays.binarySearch(changePoints, point.step());
        if (change >= 0) {
            priority.put(enabled.get(best).id(), (long) depth - 1 - change);
            best = highest(enabled);
        }
        return best;
    }

    private int highest(List<Task> enabled) {
        int best = 0;
        long bestPriority = Long.MIN_VALUE;
        for (int i = 0; i < enabled.size(); i++) {
            long p = priority.get(enabled.get(i).id());
            if (p > bestPriority) {
                best = i;
                bestPriority = p;
            }
        }
        return best;
    }

    /** The steps at which a priority drops, ascending (for tests and reports). */
    public long[] changePoints() {
        return changePoints.clone();
    }

    @Override
    public String describe() {
        return "pct(depth=" + depth + ", steps=" + steps + ", seed=" + seed + ")";
    }
}
