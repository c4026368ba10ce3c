package hmm4j.explore.report;

import hmm4j.sim.RunResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the files that show one run: the self-contained HTML timeline and the Perfetto /
 * Chrome trace-event JSON, next to a failure file or where the user asked. The command line
 * ({@code hmm4j explore}, {@code hmm4j replay --html/--perfetto}) and the JUnit extension
 * write them through this class, so both name and render them the same way.
 */
public final class RunFiles {
    private RunFiles() {
    }

    /**
     * The paths of a failure file's companions: {@code X.json} → {@code X.html},
     * {@code X.trace.json}, and {@code X.minimal.txt} (the text report of the minimised run).
     */
    public static Path[] companions(Path failureFile) {
        String name = failureFile.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return new Path[] {failureFile.resolveSibling(base + ".html"), failureFile.resolveSibling(base + ".trace.json"),
                failureFile.resolveSibling(base + ".minimal.txt")};
    }

    /** Writes the HTML report of {@code run} to {@code file}. */
    public static void writeHtml(RunResult run, String title, String replayCommand, List<String> notes, Path file)
            throws IOException {
        writeHtml(null, run, title, replayCommand, notes, file);
    }

    /**
     * Writes the HTML report of a failure to {@code file}: its minimised run {@code minimal}
     * shown, the run as found, {@code full}, one click away; {@code minimal} null: {@code full}
     * alone.
     */
    public static void writeHtml(RunResult minimal, RunResult full, String title, String replayCommand,
                                 List<String> notes, Path file) throws IOException {
        RunHeader header = RunHeader.titled(title).withNotes(notes);
        if (replayCommand != null) {
            header = header.withReplayCommand(replayCommand);
        }
        write(file, HtmlReport.render(minimal, full, header));
    }

    /** Writes the trace-event JSON of {@code run} to {@code file}. */
    public static void writePerfetto(RunResult run, Path file) throws IOException {
        write(file, PerfettoTrace.render(run));
    }

    /** Writes {@code text} to {@code file} in UTF-8, creating its directory. */
    public static void write(Path file, String text) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
