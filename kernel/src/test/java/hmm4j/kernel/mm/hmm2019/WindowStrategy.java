package hmm4j.kernel.mm.hmm2019;

import hmm4j.sim.Op;
import hmm4j.sim.SchedulingPoint;
import hmm4j.sim.Strategy;
import hmm4j.sim.Task;
import java.util.ArrayList;
import java.util.List;

/**
 * A deterministic schedule around named windows: tasks run without preemption, in the
 * priority order given (a task not named comes after, by id), except that at each
 * {@link #at} step in turn, the first time its victim reaches an operation of its kind, its
 * other task runs instead (until it blocks or exits; then the priority order again).
 */
final class WindowStrategy implements Strategy {
    private record Step(String victim, Op.Kind window, String other) {
    }

    private final List<String> priority;
    private final List<Step> steps = new ArrayList<>();
    private int next;

    WindowStrategy(String... priority) {
        this.priority = List.of(priority);
    }

    /** Adds a preemption: when {@code victim} reaches {@code window}, run {@code other}. */
    WindowStrategy at(String victim, Op.Kind window, String other) {
        steps.add(new Step(victim, window, other));
        return this;
    }

    /** The number of preemptions taken so far. */
    int taken() {
        return next;
    }

    @Override
    public int pick(SchedulingPoint point) {
        Task cur = point.current();
        if (next < steps.size() && cur != null) {
            Step s = steps.get(next);
            if (cur.name().equals(s.victim()) && point.op().kind().equals(s.window())) {
                int o = indexOf(point, s.other());
                if (o >= 0) {
                    next++;
                    return o;
                }
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
        return "windows" + steps;
    }
}
