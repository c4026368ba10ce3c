package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The header printed above the text report of an exploration: the verdict, who found the
 * failure and when, the minimisation, the failure file, and always the command that
 * replays it. The text report of the run itself ({@code hmm4j.sim.report.TextReport})
 * follows the header.
 */
@HiddenFromSites
public final class ReportHeader {
    private ReportHeader() {
    }

    /** The shell command that replays {@code file}, with {@code hmm4j} on the PATH. */
    public static String replayCommand(Path file) {
        return replayCommand("hmm4j", file);
    }

    /**
     * The shell command that replays {@code file} with the tool run as {@code tool} (a shell
     * word, e.g. {@code ./hmm4j}).
     */
    public static String replayCommand(String tool, Path file) {
        String f = file.toString();
        return tool + " replay " + (f.matches("[A-Za-z0-9_./:@%+=,-]+") ? f : "'" + f.replace("'", "'\\''") + "'");
    }

    /** {@code 1000 runs}, {@code 1000 runs or 500 ms}, or {@code 20000 ms} when only the time bounds the runs. */
    static String budget(ExploreOptions o) {
        if (o.timeBudget() == null) {
            return o.runs() + " runs";
        }
        String time = o.timeBudget().toMillis() + " ms";
        return o.runs() == ExploreOptions.UNBOUNDED_RUNS ? time + " (runs unbounded)" : o.runs() + " runs or " + time;
    }

    /**
     * The header of {@code result}, one line per fact, ending with a newline. A failing
     * result always has a {@code replay:} line: {@code replayCommand}, or, when null, the
     * command for its failure file.
     */
    public static String render(ExplorationResult result, String replayCommand) {
        StringBuilder b = new StringBuilder();
        ExploreOptions o = result.options();
        b.append("hmm4j explore ").append(result.target()).append(": ").append(result.verdictLine()).append('\n');
        b.append("  strategy ").append(o.strategy().text()).append(", seeds from ").append(o.firstSeed())
                .append(", budget ").append(budget(o)).append(o.shard().count() > 1 ? ", shard " + o.shard() : "")
                .append(", max ").append(o.maxSteps()).append(" steps per run").append('\n');
        b.append("  ").append(result.rateLine()).append('\n');
        result.failure().ifPresent(f -> {
            b.append("  found by ").append(f.strategy()).append(" in run ").append(f.runIndex()).append(" (seed ")
                    .append(f.seed()).append(")");
            if (result.nanosToFirstFailure() >= 0) {
                b.append(String.format(Locale.ROOT, ", %.1f ms after the start", result.nanosToFirstFailure() / 1e6));
            }
            b.append('\n');
            f.minimisation().ifPresent(m -> b.append("  ").append(m.summary()).append('\n'));
            f.file().ifPresent(p -> b.append("  failure file: ").append(p).append('\n'));
            String cmd = replayCommand != null ? replayCommand : f.file().map(ReportHeader::replayCommand).orElse(null);
            b.append("  replay: ").append(cmd != null ? cmd
                    : "write a failure file (--out DIR) to replay this run").append('\n');
        });
        return b.toString();
    }
}
