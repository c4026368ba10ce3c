package hmm4j.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ordered record of what each task did in a run: operations, blocks, wake-ups, exits;
 * plus the notes the model attached to events for the pictures ({@link Kernel#note},
 * {@link TraceEvent#notes()}), which add no event.
 */
@HiddenFromSites
public final class Trace {
    private final List<TraceEvent> events = Collections.synchronizedList(new ArrayList<>());
    private final boolean enabled;
    /** Notes of tasks that had no event yet, by task id; null when there are none. Guarded by {@code events}. */
    private volatile Map<Integer, List<String>> pending;

    Trace(boolean enabled) {
        this.enabled = enabled;
    }

    /** True when events are recorded. */
    public boolean enabled() {
        return enabled;
    }

    void add(TraceEvent e) {
        if (enabled) {
            events.add(e);
            if (pending != null) {
                attachPending(e);
            }
        }
    }

    /** Gives {@code e} the notes its task made before its first event. */
    private void attachPending(TraceEvent e) {
        synchronized (events) {
            if (pending == null) {
                return;
            }
            List<String> mine = pending.remove(e.taskId());
            if (mine != null) {
                mine.forEach(e::addNote);
            }
            if (pending.isEmpty()) {
                pending = null;
            }
        }
    }

    /**
     * Attaches {@code text} to the last event of task {@code taskId} (the scheduling point the
     * running task last passed: in the controlled runtime, normally the last event of all, so
     * the search back is one step). A note made before the task's first event goes to
     * that event.
     */
    void note(int taskId, String text) {
        if (!enabled) {
            return;
        }
        synchronized (events) {
            for (int i = events.size() - 1; i >= 0; i--) {
                TraceEvent e = events.get(i);
                if (e.taskId() == taskId) {
                    e.addNote(text);
                    return;
                }
            }
            if (pending == null) {
                pending = new HashMap<>();
            }
            pending.computeIfAbsent(taskId, id -> new ArrayList<>()).add(text);
        }
    }

    /** A snapshot of the events so far. */
    public List<TraceEvent> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }
}
