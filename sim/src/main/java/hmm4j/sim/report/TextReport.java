package hmm4j.sim.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import java.util.List;

/**
 * The plain-text report of one run: a one-line verdict, the seed and strategy, the
 * failure's details (sites, chains, blocked tasks), then one column per task showing the
 * last steps of the interleaving, oldest first, so the race can be read top to bottom.
 */
@HiddenFromSites
public final class TextReport {
    /** Steps shown in the swimlanes by default. */
    public static final int DEFAULT_STEPS = 60;
    private static final int COLUMN = 38;

    private TextReport() {
    }

    /** The verdict line: {@code PASS ...} or {@code FAIL <headline>}. */
    public static String verdict(RunResult r) {
        if (r.divergence().isPresent()) {
            return "DIVERGED " + r.divergence().get();
        }
        return r.firstFailure().map(f -> "FAIL " + f.headline()).orElse("PASS no failure found");
    }

    /** The full report with the default number of steps. */
    public static String render(RunResult r) {
        return render(r, DEFAULT_STEPS);
    }

    /** The full report showing at most {@code maxSteps} trace events. */
    public static String render(RunResult r, int maxSteps) {
        StringBuilder b = new StringBuilder();
        b.append(verdict(r)).append('\n');
        b.append("seed ").append(r.seed()).append(" · ").append(r.strategy()).append(" · ")
                .append(r.steps()).append(" steps").append('\n');
        for (Failure f : r.failures()) {
            if (f != r.failures().get(0)) {
                b.append(f.headline()).append('\n');
            }
            for (String line : f.details()) {
                b.append("  ").append(line).append('\n');
            }
        }
        if (!r.trace().isEmpty()) {
            b.append('\n');
            swimlanes(b, r.taskNames(), r.trace(), maxSteps);
        }
        return b.toString();
    }

    private static void swimlanes(StringBuilder b, List<String> tasks, List<TraceEvent> trace, int maxSteps) {
        int from = Math.max(0, trace.size() - maxSteps);
        if (from > 0) {
            b.append("(").append(from).append(" earlier events not shown)\n");
        }
        b.append(pad("step", 6)).append('|');
        for (int i = 0; i < tasks.size(); i++) {
            b.append(' ').append(pad(tasks.get(i) + " (" + (i + 1) + ")", COLUMN)).append('|');
        }
        b.append('\n').append("-".repeat(6)).append('+');
        for (int i = 0; i < tasks.size(); i++) {
            b.append("-".repeat(COLUMN + 1)).append('+');
        }
        b.append('\n');
        for (TraceEvent e : trace.subList(from, trace.size())) {
            b.append(pad(String.valueOf(e.step()), 6)).append('|');
            for (int i = 1; i <= tasks.size(); i++) {
                b.append(' ').append(pad(i == e.taskId() ? e.op() : "", COLUMN)).append('|');
            }
            b.append('\n');
        }
    }

    private static String pad(String s, int width) {
        if (s.length() > width) {
            return s.substring(0, width - 1) + "…";
        }
        return s + " ".repeat(width - s.length());
    }
}
