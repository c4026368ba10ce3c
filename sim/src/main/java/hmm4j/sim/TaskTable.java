package hmm4j.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The tasks of one controlled run and their scheduling states, with the enabled set kept
 * between decisions.
 *
 * <p>Overview: every change of a task's state goes through {@link #setState}, which counts
 * it. The enabled set ({@link #enabled()}, ascending ids) is rebuilt only when that count
 * moved since it was last built: most decisions are a task reaching a point and going on,
 * with no state changed, so they reuse the list as it was, and the decision record reuses
 * the enabled set it wrote for the previous decision ({@link #changedSince}). Strategies get
 * an unmodifiable view of the one list.
 *
 * <p>It also counts the live tasks (started, not done) for the run's bound on tasks.
 */
@HiddenFromSites
final class TaskTable {
    /** Every task of the run, in start order (which is id order); read by the watchdog too. */
    private final List<Task> tasks = new CopyOnWriteArrayList<>();
    private final ArrayList<Task> enabled = new ArrayList<>();
    private final List<Task> enabledView = Collections.unmodifiableList(enabled);
    private long changes;
    private long builtAt = -1;
    private int live;

    List<Task> all() {
        return tasks;
    }

    /** Adds a started task (state RUNNABLE); returns the number of live tasks. */
    int add(Task t) {
        tasks.add(t);
        live++;
        setState(t, Task.State.RUNNABLE);
        return live;
    }

    void setState(Task t, Task.State s) {
        if (t.state != s) {
            if (s == Task.State.DONE) {
                live--;
            }
            t.state = s;
            changes++;
        }
    }

    /** The number of state changes so far: equal numbers mean the same enabled set. */
    long changes() {
        return changes;
    }

    /** True when the enabled set may differ from the one of state-change count {@code at}. */
    boolean changedSince(long at) {
        return at != changes;
    }

    /** The runnable tasks, ascending ids; the same list object every time, rebuilt on change. */
    List<Task> enabled() {
        if (builtAt != changes) {
            enabled.clear();
            for (Task t : tasks) {
                if (t.state == Task.State.RUNNABLE) {
                    enabled.add(t);
                }
            }
            builtAt = changes;
        }
        return enabledView;
    }

    Task earliestTimedWaiter() {
        Task best = null;
        for (Task t : tasks) {
            if (t.state == Task.State.BLOCKED && t.deadline != Long.MAX_VALUE
                    && (best == null || t.deadline < best.deadline)) {
                best = t;
            }
        }
        return best;
    }

    boolean allNonDaemonsDone() {
        for (Task t : tasks) {
            if (!t.isDaemon() && t.state != Task.State.DONE) {
                return false;
            }
        }
        return true;
    }

    /** Each blocked non-daemon task with what it is blocked on, for a deadlock report. */
    List<String> blocked() {
        List<String> blocked = new ArrayList<>();
        for (Task t : tasks) {
            if (t.state == Task.State.BLOCKED && !t.isDaemon()) {
                blocked.add(t.name() + " blocked on " + t.blockedOn);
            }
        }
        return blocked;
    }
}
