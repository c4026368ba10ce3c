package hmm4j.sim.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.List;

/**
 * The plain-text report of one run, in this order:
 * <ol>
 *   <li>a one-line verdict: {@code PASS no failure found}, {@code FAIL <headline>} or
 *       {@code DIVERGED <where>};</li>
 *   <li>the seed, the strategy and the number of steps; then, when the caller gives one
 *       ({@link ReportOptions#withReplayCommand}), the command that replays the run; then,
 *       when the run reached its end, the checks that ran there ({@code checked at the end:
 *       mem.leak, refcount.leak, ...}, {@link RunResult#validators()});</li>
 *   <li>the failure's details ({@link FailureText}): a use-after-free with its access,
 *       allocation and free sites, a lock-order cycle with lockdep's two-task "possible
 *       unsafe locking scenario", the blocked tasks of a deadlock, a stack;</li>
 *   <li>one column per task ({@link Swimlanes}) with the last steps of the interleaving,
 *       oldest first: every operation, every block with what it waits for (a lock's holder
 *       by name, a queue), every wake-up with its waker, every context switch with its
 *       reason, and the failure marked in the column where it happened.</li>
 * </ol>
 * The report holds no wall-clock time, hash code or absolute path: the same run renders to
 * the same text, which golden files in this module's tests pin.
 *
 * <p>API: {@link #render(RunResult)} with the defaults, {@link #render(RunResult,
 * ReportOptions)} with a replay command or another number of events, {@link #verdict} for
 * the first line alone.
 */
@HiddenFromSites
public final class TextReport {
    /** Trace events shown in the columns by default. */
    public static final int DEFAULT_STEPS = 60;

    private TextReport() {
    }

    /** The verdict line: {@code PASS ...}, {@code FAIL <headline>} or {@code DIVERGED ...}. */
    public static String verdict(RunResult r) {
        if (r.divergence().isPresent()) {
            return "DIVERGED " + r.divergence().get();
        }
        return r.firstFailure().map(f -> "FAIL " + f.headline()).orElse("PASS no failure found");
    }

    /** The full report with the {@linkplain ReportOptions#defaults() default options}. */
    public static String render(RunResult r) {
        return render(r, ReportOptions.defaults());
    }

    /** The full report showing at most {@code maxSteps} trace events. */
    public static String render(RunResult r, int maxSteps) {
        return render(r, ReportOptions.defaults().withMaxEvents(maxSteps));
    }

    /** The full report rendered with {@code options}. */
    public static String render(RunResult r, ReportOptions options) {
        StringBuilder b = new StringBuilder();
        b.append(verdict(r)).append('\n');
        b.append("seed ").append(r.seed()).append(" · ").append(r.strategy()).append(" · ")
                .append(r.steps()).append(" steps").append('\n');
        options.replayCommand().ifPresent(c -> b.append("replay: ").append(c).append('\n'));
        if (!r.validators().isEmpty()) {
            b.append("checked at the end: ").append(String.join(", ", r.validators())).append('\n');
        }
        List<Failure> failures = r.failures();
        for (int i = 0; i < failures.size(); i++) {
            Failure f = failures.get(i);
            if (i > 0) {
                b.append(f.headline()).append('\n');
            }
            for (String line : FailureText.details(f)) {
                b.append(line.isEmpty() ? "" : "  " + line).append('\n');
            }
        }
        if (!r.trace().isEmpty()) {
            b.append('\n');
            Swimlanes.render(b, r.taskNames(), r.trace(), r.decisions(), r.firstFailure(), options.maxEvents());
        }
        return b.toString();
    }
}
