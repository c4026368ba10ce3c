package hmm4j.sim;

import java.util.List;

/**
 * What a {@link Strategy} sees when it must choose.
 *
 * @param step     1-based number of this decision in the run
 * @param current  the task that reached the point (null at the start of the run); it is
 *                 in {@code enabled} unless it just blocked or exited
 * @param enabled  the tasks that can run, in ascending id order (never empty)
 * @param op       the operation at the point (labelled e.g. {@code mutex_lock(dmirror->mutex)}):
 *                 for a task that reached a point the operation it is about to do, for one
 *                 that blocked, slept or exited the {@code block}, {@code sleep} or
 *                 {@code exit}, and {@code start} for the first decision of the run
 */
@HiddenFromSites
public record SchedulingPoint(long step, Task current, List<Task> enabled, Op op) {

    /** Index of {@code current} in {@code enabled}, or -1 when it cannot continue. */
    public int currentIndex() {
        return current == null ? -1 : enabled.indexOf(current);
    }
}
