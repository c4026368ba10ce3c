package hmm4j.sim;

import java.util.List;
import java.util.Objects;

/**
 * What a {@link Strategy} sees when it must choose: a view of the runtime's state at one
 * decision, valid during {@link Strategy#pick} only (the controlled runtime reuses one point
 * and one enabled list per run, so that a decision allocates nothing; a strategy that keeps
 * something keeps ids, not the point or the list).
 *
 * <ul>
 *   <li>{@link #step()}: 1-based number of this decision in the run;</li>
 *   <li>{@link #current()}: the task that reached the point (null at the start of the run);
 *       it is in {@link #enabled()} unless it just blocked or exited;</li>
 *   <li>{@link #enabled()}: the tasks that can run, in ascending id order (never empty),
 *       unmodifiable;</li>
 *   <li>{@link #op()}: the operation at the point (labelled e.g. {@code mutex_lock(dmirror->mutex)}):
 *       for a task that reached a point the operation it is about to do, for one that
 *       blocked, slept or exited the {@code block}, {@code sleep} or {@code exit}, and
 *       {@code start} for the first decision of the run.</li>
 * </ul>
 */
@HiddenFromSites
public final class SchedulingPoint {
    private long step;
    private Task current;
    private final List<Task> enabled;
    private Op op;

    /** A point of its own (tests, strategies driven by hand): {@code enabled} is read as given. */
    public SchedulingPoint(long step, Task current, List<Task> enabled, Op op) {
        this.step = step;
        this.current = current;
        this.enabled = Objects.requireNonNull(enabled);
        this.op = op;
    }

    /** The runtime's reusable point over its enabled view. */
    SchedulingPoint(List<Task> enabledView) {
        this.enabled = enabledView;
    }

    /** Moves the runtime's point to the next decision. */
    SchedulingPoint at(long step, Task current, Op op) {
        this.step = step;
        this.current = current;
        this.op = op;
        return this;
    }

    public long step() {
        return step;
    }

    public Task current() {
        return current;
    }

    public List<Task> enabled() {
        return enabled;
    }

    public Op op() {
        return op;
    }

    /** Index of {@code current} in {@code enabled}, or -1 when it cannot continue. */
    public int currentIndex() {
        if (current == null) {
            return -1;
        }
        for (int i = 0, n = enabled.size(); i < n; i++) {
            if (enabled.get(i) == current) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "SchedulingPoint[step=" + step + ", current=" + current + ", enabled=" + enabled + ", op=" + op + "]";
    }
}
