package hmm4j.sim.report;

import hmm4j.sim.HiddenFromSites;
import java.util.Objects;
import java.util.Optional;

/**
 * How a {@link TextReport} is rendered: how many trace events the per-task columns show and
 * the command that replays the run, printed under the seed when given.
 *
 * <p>{@link #defaults()} shows the last {@value TextReport#DEFAULT_STEPS} events and no
 * replay line; callers that saved the run's schedule add the command, e.g.
 * {@code ReportOptions.defaults().withReplayCommand("hmm4j replay run.hmm4j")}.
 *
 * @param maxEvents     trace events shown at most (the last ones), at least 1
 * @param replayCommand the command line that replays this run, if the caller has one
 */
@HiddenFromSites
public record ReportOptions(int maxEvents, Optional<String> replayCommand) {

    public ReportOptions {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("maxEvents must be at least 1: " + maxEvents);
        }
        Objects.requireNonNull(replayCommand, "replayCommand");
        replayCommand = replayCommand.filter(c -> !c.isBlank());
    }

    /** The last {@value TextReport#DEFAULT_STEPS} events, no replay command. */
    public static ReportOptions defaults() {
        return new ReportOptions(TextReport.DEFAULT_STEPS, Optional.empty());
    }

    /** These options showing at most {@code maxEvents} events. */
    public ReportOptions withMaxEvents(int maxEvents) {
        return new ReportOptions(maxEvents, replayCommand);
    }

    /** These options with the replay command line {@code command} (blank: none). */
    public ReportOptions withReplayCommand(String command) {
        return new ReportOptions(maxEvents, Optional.ofNullable(command));
    }
}
