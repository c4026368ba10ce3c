package hmm4j.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The ordered record of what each task did in a run: operations, blocks, wake-ups, exits. */
@HiddenFromSites
public final class Trace {
    private final List<TraceEvent> events = Collections.synchronizedList(new ArrayList<>());
    private final boolean enabled;

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
        }
    }

    /** A snapshot of the events so far. */
    public List<TraceEvent> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }
}
