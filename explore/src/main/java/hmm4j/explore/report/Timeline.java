package hmm4j.explore.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.report.EventText;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The layout that the HTML timeline and the trace-event file share: the events of a run in
 * slots (one per event, in trace order, so two events of one step never overlap), the time
 * of each slot derived from its step, the spans in which a task waited (from its block or
 * sleep to the wake-up or timeout that ended it, or to the end of the run), and where the
 * failure goes.
 *
 * <p>Time: step {@code s} starts at {@code s * }{@value #MICROS_PER_STEP} µs; the events of
 * one step share that step evenly, in trace order. A viewer's time axis therefore reads as
 * step numbers in milliseconds.
 */
@HiddenFromSites
final class Timeline {
    /** Trace-event time of one step. */
    static final long MICROS_PER_STEP = 1000;

    /** A wait of task {@code task} (0-based) from slot {@code from} to slot {@code to} (exclusive). */
    record Wait(int task, int from, int to, TraceEvent.Kind kind, String what, String endedBy) {
    }

    private final RunResult run;
    private final List<TraceEvent> events;
    private final int hidden;
    private final long[] micros;
    private final long[] durations;
    private final List<Wait> waits = new ArrayList<>();

    /** The last {@code maxEvents} events of {@code run}. */
    Timeline(RunResult run, int maxEvents) {
        this.run = run;
        List<TraceEvent> all = run.trace();
        this.hidden = Math.max(0, all.size() - maxEvents);
        this.events = all.subList(hidden, all.size());
        this.micros = new long[events.size()];
        this.durations = new long[events.size()];
        times();
        findWaits();
    }

    private void times() {
        int i = 0;
        while (i < events.size()) {
            int j = i;
            while (j < events.size() && events.get(j).step() == events.get(i).step()) {
                j++;
            }
            int n = j - i;
            long base = events.get(i).step() * MICROS_PER_STEP;
            for (int k = 0; k < n; k++) {
                micros[i + k] = base + k * MICROS_PER_STEP / n;
                durations[i + k] = MICROS_PER_STEP / n;
            }
            i = j;
        }
    }

    private void findWaits() {
        int[] openAt = new int[tasks().size()];
        java.util.Arrays.fill(openAt, -1);
        for (int slot = 0; slot < events.size(); slot++) {
            TraceEvent e = events.get(slot);
            int task = e.taskId() - 1;
            if (task < 0 || task >= openAt.length) {
                continue;
            }
            switch (e.kind()) {
                case BLOCKED, SLEEPING -> openAt[task] = slot;
                case WOKEN, TIMED_OUT -> {
                    if (openAt[task] >= 0) {
                        TraceEvent start = events.get(openAt[task]);
                        waits.add(new Wait(task, openAt[task], slot, start.kind(), EventText.describe(start),
                                EventText.describe(e)));
                        openAt[task] = -1;
                    }
                }
                default -> { }
            }
        }
        for (int task = 0; task < openAt.length; task++) {
            if (openAt[task] >= 0) {
                TraceEvent start = events.get(openAt[task]);
                waits.add(new Wait(task, openAt[task], events.size(), start.kind(), EventText.describe(start),
                        "still waiting when the run ended"));
            }
        }
        waits.sort(java.util.Comparator.comparingInt(Wait::from).thenComparingInt(Wait::task));
    }

    RunResult run() {
        return run;
    }

    List<String> tasks() {
        return run.taskNames();
    }

    /** The events shown, oldest first; slot {@code i} is event {@code i}. */
    List<TraceEvent> events() {
        return events;
    }

    /** Events of the run left out at the start. */
    int hidden() {
        return hidden;
    }

    /** The trace-event time of slot {@code slot}, in microseconds. */
    long micros(int slot) {
        return slot < micros.length ? micros[slot] : end();
    }

    /** The duration of slot {@code slot}, in microseconds. */
    long duration(int slot) {
        return durations[slot];
    }

    /** The time just after the last event (and at least the failure's step). */
    long end() {
        long last = events.isEmpty() ? 0 : micros[events.size() - 1] + durations[events.size() - 1];
        return Math.max(last, failure().map(f -> f.site().step() * MICROS_PER_STEP).orElse(0L));
    }

    /** The waits, by start slot. */
    List<Wait> waits() {
        return waits;
    }

    /** The first failure, marked after the last slot. */
    Optional<Failure> failure() {
        return run.firstFailure();
    }

    /** The 0-based task the failure is marked in, or -1 when it happened outside the tasks. */
    int failureTask() {
        return failure().map(f -> EventText.failureTaskIndex(f, tasks())).orElse(-1);
    }
}
