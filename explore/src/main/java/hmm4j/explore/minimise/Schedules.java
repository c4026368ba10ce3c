package hmm4j.explore.minimise;

import hmm4j.sim.Decision;
import hmm4j.sim.HiddenFromSites;
import java.util.ArrayList;
import java.util.List;

/**
 * Counting and rearranging schedules. In a decision list the task that reached the point of
 * step {@code s} is the task chosen at step {@code s - 1} (exactly one task runs between two
 * decisions), so a <em>context switch</em> at {@code s} is a choice different from the
 * previous one, and a <em>preemption</em> is a context switch while the previous task was
 * still enabled.
 *
 * <p>For rearranging, a schedule is its <em>order</em>: the chosen task of every decision,
 * in sequence. Each entry stands for one block of a task (what it runs between two of its
 * scheduling points); {@link OrderStrategy} re-executes an order.
 */
@HiddenFromSites
public final class Schedules {
    private Schedules() {
    }

    /** Context switches of {@code decisions}. */
    public static int contextSwitches(List<Decision> decisions) {
        int n = 0;
        for (int s = 1; s < decisions.size(); s++) {
            if (decisions.get(s).chosen() != decisions.get(s - 1).chosen()) {
                n++;
            }
        }
        return n;
    }

    /** Preemptions of {@code decisions}. */
    public static int preemptions(List<Decision> decisions) {
        int n = 0;
        for (int s = 1; s < decisions.size(); s++) {
            if (isPreemption(decisions, s)) {
                n++;
            }
        }
        return n;
    }

    /** True when decision {@code s} (0-based) preempts the task chosen before it. */
    public static boolean isPreemption(List<Decision> decisions, int s) {
        if (s == 0) {
            return false;
        }
        int previous = decisions.get(s - 1).chosen();
        Decision d = decisions.get(s);
        return d.chosen() != previous && d.enabled().contains(previous);
    }

    /** The chosen task of every decision, in order. */
    public static List<Integer> order(List<Decision> decisions) {
        return decisions.stream().map(Decision::chosen).toList();
    }

    /**
     * The orders that remove the preemption at decision {@code s} (0-based) by letting the
     * preempted task go on first: one moves only its next block to {@code s}, the other its
     * whole next stretch of consecutive blocks. Empty when the preempted task never runs
     * again in the schedule.
     */
    public static List<List<Integer>> withoutPreemption(List<Integer> order, int s) {
        int task = order.get(s - 1);
        int next = -1;
        for (int t = s; t < order.size(); t++) {
            if (order.get(t) == task) {
                next = t;
                break;
            }
        }
        if (next < 0) {
            return List.of();
        }
        int end = next;
        while (end < order.size() && order.get(end) == task) {
            end++;
        }
        List<List<Integer>> candidates = new ArrayList<>(2);
        candidates.add(move(order, next, next + 1, s));
        if (end - next > 1) {
            candidates.add(move(order, next, end, s));
        }
        return candidates;
    }

    /** {@code order} with the entries {@code [from, to)} moved to position {@code at} (at most {@code from}). */
    static List<Integer> move(List<Integer> order, int from, int to, int at) {
        List<Integer> out = new ArrayList<>(order.size());
        out.addAll(order.subList(0, at));
        out.addAll(order.subList(from, to));
        out.addAll(order.subList(at, from));
        out.addAll(order.subList(to, order.size()));
        return out;
    }
}
