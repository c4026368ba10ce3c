package hmm4j.explore.junit;

import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.ExploreTarget;
import hmm4j.explore.FoundFailure;
import hmm4j.explore.ReportHeader;
import hmm4j.explore.report.RunFiles;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.report.TextReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What an {@link Explore} test says about its exploration, in three forms from the same
 * facts: the one line printed on standard output (which surefire and Gradle keep in the
 * test's {@code <system-out>} of their JUnit XML), the JUnit report entries (for IDEs and
 * listeners; keys {@code hmm4j}, {@code hmm4j.runs}, {@code hmm4j.strategy}, {@code hmm4j.seeds},
 * {@code hmm4j.marks}, and for a failure {@code hmm4j.failure}, {@code hmm4j.failureFile},
 * {@code hmm4j.replay}), and for a failing test the message: the report header, the files
 * written next to the failure file and the text report of the minimised run.
 *
 * <p>Next to a failure file {@code X.json} it writes, through {@link RunFiles} as the command
 * line does, the HTML timeline {@code X.html} and the Perfetto trace {@code X.trace.json} of the
 * failing run, and the text report of the minimised run {@code X.minimal.txt}.
 */
@HiddenFromSites
final class ExploreReport {
    /** Report entry key of the one line. */
    static final String LINE = "hmm4j";

    private final String test;
    private final ExplorationResult result;
    private final String replayCommand;
    private final List<String> files;
    private final RunResult shown;

    private ExploreReport(String test, ExplorationResult result, String replayCommand, List<String> files,
                          RunResult shown) {
        this.test = test;
        this.result = result;
        this.replayCommand = replayCommand;
        this.files = files;
        this.shown = shown;
    }

    /**
     * The report of {@code result}; for a failure with a failure file, writes its companions
     * and replays the minimised schedule for the text report.
     */
    static ExploreReport of(String test, ExplorationResult result, ExploreTarget target,
                            java.util.function.Function<Path, String> replayCommand) {
        Optional<FoundFailure> found = result.failure();
        if (found.isEmpty() || found.get().file().isEmpty()) {
            return new ExploreReport(test, result, null, List.of(), found.map(FoundFailure::run).orElse(null));
        }
        FoundFailure f = found.get();
        Path file = f.file().get();
        String cmd = replayCommand.apply(file);
        Path[] companions = RunFiles.companions(file);
        RunResult minimal = f.minimalRun(target).orElse(null);
        List<String> lines = new java.util.ArrayList<>();
        try {
            RunFiles.writeHtml(minimal, f.run(), "hmm4j @Explore " + test, cmd, List.of(test), companions[0]);
            lines.add("timeline: " + companions[0] + (minimal != null ? " (the minimised run, the run as found a click "
                    + "away; open in a browser)" : " (the failing run; open in a browser)"));
            RunFiles.writePerfetto(f.run(), companions[1]);
            lines.add("trace: " + companions[1] + " (open in https://ui.perfetto.dev or chrome://tracing)");
            if (minimal != null) {
                RunFiles.write(companions[2], TextReport.render(minimal));
                lines.add("minimised run: " + companions[2] + " (its text report is below)");
            }
        } catch (IOException e) {
            lines.add("could not write the reports next to the failure file: " + e.getMessage());
        }
        return new ExploreReport(test, result, cmd, List.copyOf(lines), minimal != null ? minimal : f.run());
    }

    /** {@code 1..500}: the seeds of the runs done (run r has seed firstSeed + r). */
    static String seeds(ExplorationResult r) {
        long first = r.options().firstSeed();
        return r.runsDone() == 0 ? "none" : r.runsDone() == 1 ? Long.toString(first)
                : first + ".." + (first + r.runsDone() - 1);
    }

    /** {@code 500 runs}, with why a passing exploration stopped early. */
    private String runs() {
        long n = result.runsDone();
        return n + " run" + (n == 1 ? "" : "s")
                + (result.stoppedBy() == ExplorationResult.StopReason.TIME ? " (time budget spent)" : "");
    }

    private String strategyAndSeeds() {
        ExploreOptions o = result.options();
        return "strategy " + o.strategy().text() + ", seeds " + seeds(result)
                + result.spaceLine().map(s -> "; " + s).orElse("");
    }

    private String marksHit() {
        int n = result.marks().reached().size();
        return "marks hit " + n + (n == 0 ? "" : ": " + result.marks().summary());
    }

    /**
     * The one line: {@code hmm4j explore T: 500 runs, no failure, marks hit 2: ...; strategy
     * portfolio, seeds 1..500}, or for a failure {@code hmm4j explore T: FAIL headline (run R,
     * seed S) after N runs; strategy ..., seeds ...; failure file F}; {@code expected} names the
     * expected failure a passing test found.
     */
    String line(Optional<Expectation> expected) {
        String head = "hmm4j explore " + test + ": ";
        Optional<FoundFailure> f = result.failure();
        if (f.isEmpty()) {
            return head + runs() + ", no failure, " + marksHit() + "; " + strategyAndSeeds();
        }
        String verdict = expected.map(e -> "found the expected failure (" + e.describe() + "): ").orElse("FAIL ")
                + f.get().headline() + " (run " + f.get().runIndex() + ", seed " + f.get().seed() + ")";
        return head + verdict + " after " + runs() + ", " + marksHit() + "; " + strategyAndSeeds()
                + f.get().file().map(p -> "; failure file " + p).orElse("");
    }

    /**
     * The report entries (insertion order): the line, runs, strategy, seeds, marks, the
     * {@code expect} attribute, and the failure's facts; {@code matched} when the failure found
     * is the expected one.
     */
    Map<String, String> entries(Optional<Expectation> expected, boolean matched) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(LINE, line(matched ? expected : Optional.empty()));
        m.put("hmm4j.runs", Long.toString(result.runsDone()));
        m.put("hmm4j.strategy", result.options().strategy().text());
        m.put("hmm4j.seeds", seeds(result));
        m.put("hmm4j.marks", result.marks().summary());
        expected.ifPresent(e -> m.put("hmm4j.expect", e.text()));
        result.failure().ifPresent(f -> {
            m.put("hmm4j.failure", f.headline());
            f.file().ifPresent(p -> m.put("hmm4j.failureFile", p.toString()));
            if (replayCommand != null) {
                m.put("hmm4j.replay", replayCommand);
            }
        });
        return m;
    }

    /**
     * The message of a failing test: {@code first} (when not null) on a line of its own, the
     * report header (verdict, strategy and seeds, who found it, the minimisation, the failure
     * file, the replay command), the files written, and the text report of the minimised run
     * (of the failing run when it could not be minimised).
     */
    String failureMessage(String first) {
        StringBuilder b = new StringBuilder();
        if (first != null) {
            b.append(first).append('\n');
        }
        b.append(ReportHeader.render(result, replayCommand));
        for (String l : files) {
            b.append("  ").append(l).append('\n');
        }
        if (shown != null) {
            b.append('\n').append(TextReport.render(shown));
        }
        return b.toString();
    }
}
