package hmm4j.kernel.mm.hmm2019;

import hmm4j.sim.Op;
import hmm4j.sim.SchedulingPoint;
import hmm4j.sim.Strategy;
import hmm4j.sim.Task;
import java.util.List;

/**
 * A deterministic schedule for one window: tasks run without preemption, in the priority
 * order given (a task not named comes after, by id), except that the first time
 * {@code victim} reaches an operation of kind {@code window}, {@code other} runs instead
 * (until it blocks or exits, then the priority order again).
 */
final class WindowStrategy implements Strategy {
    private final String victim;
    private final Op.Kind window;
    private final String other;
    private final List<String> priority;
    private boolean preempted;

    WindowStrategy(String victim, Op.Kind window, String other, String... priority) {
        this.victim = victim;
        this.window = window;
        this.other = other;
        this.priority = List.of(priority);
    }

    /** True once the window was reached and the other task was run there. */
    boolean preempted() {
        return preempted;
    }

    @Override
    public int pick(SchedulingPoint point) {
        Task cur = point.current();
        if (!preempted && cur != null && cur.name().equals(victim) && point.op().kind().equals(window)) {
            int o = indexOf(point, other);
            if (o >= 0) {
                preempted = true;
                return o;
            }
        }
        int ci = point.currentIndex();
        if (ci >= 0) {
            return ci;
        }
        for (String name : priority) {
            int i = indexOf(point, name);
            if (i >= 0) {
                return i;
            }
        }
        return 0;
    }

    private static int indexOf(SchedulingPoint point, String name) {
        for (int i = 0; i < point.enabled().size(); i++) {
            if (point.enabled().get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String describe() {
        return "window(" + victim + " at " + window.name() + " -> " + other + ")";
    }
}
