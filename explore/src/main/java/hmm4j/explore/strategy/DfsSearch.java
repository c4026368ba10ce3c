package hmm4j.explore.strategy;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.ReplayDivergence;
import hmm4j.sim.SchedulingPoint;
import hmm4j.sim.Strategy;
import hmm4j.sim.Task;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Bounded depth-first search over the scheduling points of a program, with a preemption
 * bound: every schedule with at most {@code bound} preemptions is run exactly once, and
 * when none is left the search reports "space exhausted at bound k". A preemption is a
 * choice of another task while the task that reached the point could still run; a switch
 * after a task blocks or exits is free.
 *
 * <p>Overview: the search is stateless in the model checker's sense (Musuvathi and Qadeer,
 * "Iterative Context Bounding for Systematic Testing of Multithreaded Programs", PLDI
 * 2007): it never saves program states, it re-runs the program from scratch with a prefix
 * of choices. The search keeps the path of the last run, one node per scheduling decision
 * (enabled tasks, the task that reached the point, preemptions before it, the choice made,
 * the choices tried). A run ({@link #nextRun}) follows the prefix, then extends the path
 * without preempting: the task that reached the point continues, or the lowest-numbered
 * enabled task when it cannot. After the run ({@link #runFinished}) the deepest node with an
 * untried choice within the bound becomes the end of the next prefix; alternatives are tried
 * in ascending task number. The program must be deterministic for a given prefix (the
 * controlled runtime makes it so); the prefix is verified at every step and a mismatch ends
 * the run as a replay divergence.
 *
 * <p>Lifetime: one search per exploration; its runs are strictly sequential (each prefix
 * depends on the previous run), so the explorer runs a search in a single lane. The run
 * strategies are called from the kernel's task threads one at a time, with the runtime's
 * hand-off ordering the accesses.
 */
@HiddenFromSites
public final class DfsSearch {
    private final int bound;
    private final List<Node> path = new ArrayList<>();
    private int prefix;
    private long runs;
    private boolean running;
    private boolean exhausted;
    private boolean pruned;

    /** One scheduling decision on the current path. */
    private static final class Node {
        final int[] enabled;
        final int from;
        final int preemptionsBefore;
        final boolean[] tried;
        int chosen;

        Node(int[] enabled, int from, int preemptionsBefore) {
            this.enabled = enabled;
            this.from = from;
            this.preemptionsBefore = preemptionsBefore;
            this.tried = new boolean[enabled.length];
        }

        /** True when running {@code task} here preempts the task that reached the point. */
        boolean preempts(int task) {
            return task != from && Arrays.stream(enabled).anyMatch(t -> t == from);
        }

        int preemptionsAfter() {
            return preemptionsBefore + (preempts(chosen) ? 1 : 0);
        }
    }

    /** @param bound the largest number of preemptions of a schedule (at least 0) */
    public DfsSearch(int bound) {
        if (bound < 0) throw new IllegalArgumentException("the preemption bound must not be negative: " + bound);
        this.bound = bound;
    }

    /** The preemption bound. */
    public int bound() {
        return bound;
    }

    /** The strategy of the next run, or empty when the space within the bound is exhausted. */
    public Optional<Strategy> nextRun() {
        if (running) throw new IllegalStateException("the previous run has not finished");
        if (exhausted) {
            return Optional.empty();
        }
        running = true;
        runs++;
        return Optional.of(new RunStrategy(runs));
    }

    /** Ends the current run: moves to the next schedule, or marks the space exhausted. */
    public void runFinished() {
        if (!running) throw new IllegalStateException("no run in progress");
        running = false;
        for (int j = path.size() - 1; j >= 0; j--) {
            Node n = path.get(j);
            for (int i = 0; i < n.enabled.length; i++) {
                if (n.tried[i]) {
                    continue;
                }
                n.tried[i] = true;
                if (n.preemptionsBefore + (n.preempts(n.enabled[i]) ? 1 : 0) > bound) {
                    pruned = true;
                    continue;
                }
                n.chosen = n.enabled[i];
                path.subList(j + 1, path.size()).clear();
                prefix = j + 1;
                return;
            }
        }
        path.clear();
        exhausted = true;
    }

    /** True once every schedule within the bound has run. */
    public boolean exhausted() {
        return exhausted;
    }

    /** True when the bound cut off at least one schedule (the space without a bound is larger). */
    public boolean pruned() {
        return pruned;
    }

    /** Runs started so far. */
    public long runs() {
        return runs;
    }

    /** The strategy of one run: follows the prefix, then extends the path without preempting. */
    private final class RunStrategy implements Strategy {
        private final long run;

        RunStrategy(long run) {
            this.run = run;
        }

        @Override
        public int pick(SchedulingPoint point) {
            List<Task> tasks = point.enabled();
            int[] enabled = new int[tasks.size()];
            for (int i = 0; i < enabled.length; i++) {
                enabled[i] = tasks.get(i).id();
            }
            int step = (int) point.step();
            if (step <= prefix) {
                Node n = path.get(step - 1);
                if (!Arrays.equals(n.enabled, enabled)) {
                    throw new ReplayDivergence("diverged at step " + step + ": enabled tasks " + Arrays.toString(enabled)
                            + " but an earlier run of the same prefix had " + Arrays.toString(n.enabled)
                            + " (the program is not deterministic for a given schedule)");
                }
                return indexOf(enabled, n.chosen);
            }
            if (path.size() != step - 1) {
                throw new IllegalStateException("dfs path out of step: " + path.size() + " nodes at step " + step);
            }
            int preemptions = path.isEmpty() ? 0 : path.get(path.size() - 1).preemptionsAfter();
            int from = point.current() == null ? 0 : point.current().id();
            Node n = new Node(enabled, from, preemptions);
            int keep = point.currentIndex();
            int choice = keep >= 0 ? keep : 0;
            n.chosen = enabled[choice];
            n.tried[choice] = true;
            path.add(n);
            return choice;
        }

        @Override
        public String describe() {
            return "dfs(preemptions<=" + bound + ", run " + run + ")";
        }
    }

    private static int indexOf(int[] enabled, int task) {
        for (int i = 0; i < enabled.length; i++) {
            if (enabled[i] == task) {
                return i;
            }
        }
        throw new IllegalStateException("task " + task + " is not enabled");
    }
}
