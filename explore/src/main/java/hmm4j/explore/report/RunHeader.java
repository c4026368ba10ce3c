package hmm4j.explore.report;

import hmm4j.sim.HiddenFromSites;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a caller knows about a run beyond the {@link hmm4j.sim.RunResult} itself, shown at
 * the top of its {@link HtmlReport}: a title (the scenario or test that ran), the command
 * that replays the run, and free lines of context (e.g. the exploration's header from
 * {@link hmm4j.explore.ReportHeader#render}: strategy, runs, who found it).
 *
 * <p>Named {@code RunHeader} rather than {@code ReportHeader} because
 * {@code hmm4j.explore.ReportHeader} is the text header of an exploration; the two go
 * together: its lines can be the notes here.
 *
 * @param title         the page title and heading, e.g. {@code S3a-hmm-no-grace}; may be empty
 * @param replayCommand the command line that replays the run, e.g. {@code hmm4j replay f.json}
 * @param notes         more lines of context, shown as given
 */
@HiddenFromSites
public record RunHeader(String title, Optional<String> replayCommand, List<String> notes) {

    public RunHeader {
        Objects.requireNonNull(title, "title");
        replayCommand = Objects.requireNonNull(replayCommand, "replayCommand").filter(c -> !c.isBlank());
        notes = List.copyOf(notes);
    }

    /** A header with a title only. */
    public static RunHeader titled(String title) {
        return new RunHeader(title, Optional.empty(), List.of());
    }

    /** This header with the replay command {@code command} (blank: none). */
    public RunHeader withReplayCommand(String command) {
        return new RunHeader(title, Optional.ofNullable(command), notes);
    }

    /** This header with {@code lines} added to its notes. */
    public RunHeader withNotes(List<String> lines) {
        return new RunHeader(title, replayCommand,
                java.util.stream.Stream.concat(notes.stream(), lines.stream()).toList());
    }
}
