package hmm4j.cli;

import hmm4j.explore.report.HtmlReport;
import hmm4j.explore.report.PerfettoTrace;
import hmm4j.explore.report.RunHeader;
import hmm4j.sim.RunResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the two files that show one run: the self-contained HTML timeline and the
 * Perfetto / Chrome trace-event JSON, next to a failure file or where the user asked.
 */
final class RunFiles {
    private RunFiles() {
    }

    /** The paths of a failure file's companions: {@code X.json} → {@code X.html}, {@code X.trace.json}. */
    static Path[] companions(Path failureFile) {
        String name = failureFile.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return new Path[] {failureFile.resolveSibling(base + ".html"), failureFile.resolveSibling(base + ".trace.json")};
    }

    /** Writes the HTML report of {@code run} to {@code file}. */
    static void writeHtml(RunResult run, String title, String replayCommand, List<String> notes, Path file)
            throws IOException {
        RunHeader header = RunHeader.titled(title).withNotes(notes);
        if (replayCommand != null) {
            header = header.withReplayCommand(replayCommand);
        }
        write(file, HtmlReport.render(run, header));
    }

    /** Writes the trace-event JSON of {@code run} to {@code file}. */
    static void writePerfetto(RunResult run, Path file) throws IOException {
        write(file, PerfettoTrace.render(run));
    }

    private static void write(Path file, String text) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
