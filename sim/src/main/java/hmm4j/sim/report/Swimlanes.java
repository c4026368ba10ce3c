package hmm4j.sim.report;

import hmm4j.sim.Decision;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Op;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The per-task columns of the text report: one column per task, one row per trace event,
 * oldest first. Each cell says what the task did ({@link EventText#describe}); a context
 * switch adds a {@code ⇢} line under the event that caused it; the failure is marked
 * {@code ✗} in the column of the task it happened in, at the end. Long cells wrap inside
 * their column instead of being cut, so a lock's holder is never lost.
 */
@HiddenFromSites
final class Swimlanes {
    /** Width of a task column. */
    static final int COLUMN = 38;
    private static final int STEP_COLUMN = 6;
    private static final String CONTINUATION = "  ";

    private final StringBuilder b;
    private final List<String> tasks;

    private Swimlanes(StringBuilder b, List<String> tasks) {
        this.b = b;
        this.tasks = tasks;
    }

    /**
     * Appends the columns of the last {@code maxEvents} events of {@code trace} to
     * {@code b}, with the first decision ({@code start}) when it is in view and the mark of
     * {@code failure} when there is one.
     */
    static void render(StringBuilder b, List<String> tasks, List<TraceEvent> trace, List<Decision> decisions,
                       Optional<Failure> failure, int maxEvents) {
        new Swimlanes(b, tasks).render(trace, decisions, failure, maxEvents);
    }

    private void render(List<TraceEvent> trace, List<Decision> decisions, Optional<Failure> failure, int maxEvents) {
        int from = Math.max(0, trace.size() - maxEvents);
        if (from > 0) {
            b.append("(").append(from).append(" earlier events not shown)\n");
        }
        header();
        if (from == 0 && !decisions.isEmpty() && decisions.get(0).op().kind().equals(Op.Kind.START)) {
            Decision d = decisions.get(0);
            row(String.valueOf(d.step()), d.chosen() - 1, List.of(d.op().label()));
        }
        for (TraceEvent e : trace.subList(from, trace.size())) {
            List<String> lines = new ArrayList<>(wrap(EventText.describe(e), COLUMN));
            EventText.describeSwitch(e).ifPresent(s -> lines.addAll(wrap(EventText.SWITCH_MARK + " " + s, COLUMN - 2)
                    .stream().map(l -> CONTINUATION + l).toList()));
            row(String.valueOf(e.step()), e.taskId() - 1, lines);
        }
        failure.ifPresent(this::mark);
    }

    private void mark(Failure f) {
        int column = EventText.failureTaskIndex(f, tasks);
        String text = EventText.failureMark(f);
        if (column < 0) {
            b.append(pad("", STEP_COLUMN)).append("  ").append(text).append(" (")
                    .append(f.site().task()).append(", step ").append(f.site().step()).append(")\n");
            return;
        }
        row(String.valueOf(f.site().step()), column, wrap(text, COLUMN));
    }

    private void header() {
        b.append(pad("step", STEP_COLUMN)).append('|');
        for (int i = 0; i < tasks.size(); i++) {
            b.append(' ').append(pad(tasks.get(i) + " (" + (i + 1) + ")", COLUMN)).append('|');
        }
        b.append('\n').append("-".repeat(STEP_COLUMN)).append('+');
        for (int i = 0; i < tasks.size(); i++) {
            b.append("-".repeat(COLUMN + 1)).append('+');
        }
        b.append('\n');
    }

    /** One row per line of {@code lines} in column {@code column}; the step only on the first. */
    private void row(String step, int column, List<String> lines) {
        for (int l = 0; l < lines.size(); l++) {
            b.append(pad(l == 0 ? step : "", STEP_COLUMN)).append('|');
            for (int i = 0; i < tasks.size(); i++) {
                b.append(' ').append(pad(i == column ? lines.get(l) : "", COLUMN)).append('|');
            }
            b.append('\n');
        }
    }

    /**
     * {@code text} in lines of at most {@code width} characters, broken after the line's
     * last space or comma; in a line without one, after its last opening parenthesis or
     * before its last {@code ->}; else cut. Every line after the first starts with two
     * spaces.
     */
    static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        String rest = text;
        String indent = "";
        while (indent.length() + rest.length() > width) {
            int room = width - indent.length();
            int cut = breakPoint(rest, room);
            lines.add(indent + rest.substring(0, cut).stripTrailing());
            rest = rest.substring(cut).stripLeading();
            indent = CONTINUATION;
        }
        lines.add(indent + rest);
        return lines;
    }

    /** Where to end a line of at most {@code room} characters of {@code s} (longer than that). */
    private static int breakPoint(String s, int room) {
        for (int i = room; i > 4; i--) {
            char c = s.charAt(i - 1);
            if (c == ' ' || c == ',' || s.charAt(i) == ' ') {
                return i;
            }
        }
        for (int i = room; i > 4; i--) {
            if (s.charAt(i - 1) == '(' || s.startsWith("->", i)) {
                return i;
            }
        }
        return room;
    }

    private static String pad(String s, int width) {
        if (s.length() > width) {
            return s.substring(0, width - 1) + "…";
        }
        return s + " ".repeat(width - s.length());
    }
}
