package hmm4j.sim;

import java.util.List;

/**
 * What a {@link Strategy} sees when it must choose.
 *
 * @param step     1-based number of this decision in the run
 * @param current  the task that reached the point (null at the start of the run); it is
 *                 in {@code enabled} unless it just blocked or exited
 * @param enabled  the tasks that can run, in ascending id order (never empty)
 * @param op       the operation at the point, e.g. {@code "mutex_lock(dmirror->mutex)"}
 */
@HiddenFromSites
public record SchedulingPoint(long step, Task current, List<Task> enabled, String op) {

    /** Index of {@code current} in {@code enabled}, or -1 when it cannot continue. */
    public int currentIndex() {
        return current == null ? -1 : enabled.indexOf(current);
    }
}
