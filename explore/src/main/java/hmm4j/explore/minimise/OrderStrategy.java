package hmm4j.explore.minimise;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.SchedulingPoint;
import hmm4j.sim.Strategy;
import hmm4j.sim.Task;
import java.util.List;

/**
 * Follows an order of blocks ({@link Schedules#order}): at every point it runs the first
 * remaining entry whose task is enabled and crosses that entry off. When the order and the
 * run drift apart (a task blocks or exits earlier than in the schedule the order came from)
 * the entries of tasks that cannot run are passed over and taken later; once no remaining
 * entry can run, the run completes without preemptions: the running task continues, or the
 * lowest-numbered enabled task when it cannot. Deterministic, so a candidate order of the
 * minimiser is one run.
 */
@HiddenFromSites
public final class OrderStrategy implements Strategy {
    private final int[] order;
    private final boolean[] used;
    private int head;

    public OrderStrategy(List<Integer> order) {
        this.order = order.stream().mapToInt(Integer::intValue).toArray();
        this.used = new boolean[this.order.length];
    }

    @Override
    public int pick(SchedulingPoint point) {
        List<Task> enabled = point.enabled();
        while (head < order.length && used[head]) {
            head++;
        }
        for (int i = head; i < order.length; i++) {
            if (used[i]) {
                continue;
            }
            for (int e = 0; e < enabled.size(); e++) {
                if (enabled.get(e).id() == order[i]) {
                    used[i] = true;
                    return e;
                }
            }
        }
        int keep = point.currentIndex();
        return keep >= 0 ? keep : 0;
    }

    @Override
    public String describe() {
        return "order(" + order.length + " blocks)";
    }
}
