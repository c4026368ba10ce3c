package hmm4j.cli;

import hmm4j.explore.ExplorationException;
import hmm4j.explore.Explorer;
import hmm4j.explore.ReplayResult;
import hmm4j.explore.ReportHeader;
import hmm4j.explore.replay.FailureFile;
import hmm4j.explore.replay.FailureFiles;
import hmm4j.explore.report.RunFiles;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import hmm4j.scenarios.ScenarioRunner;
import hmm4j.sim.JvmExits;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.report.TextReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hmm4j replay FILE}: re-runs the failing run of a failure file on its scenario,
 * checking at every step that the enabled tasks and the operation are the recorded ones,
 * and prints the verdict and the text report of the replayed run.
 */
@Command(name = "replay",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Replay a failure file written by 'hmm4j explore'. The run is re-executed",
            "decision by decision; at every step the enabled tasks and the operation must",
            "be the recorded ones, else the replay stops with 'diverged at step N' and",
            "what differed; a recorded choice that is not enabled diverges at its step.",
            "The file's seed must be the one its exploration gave the run, and the",
            "verdict's kind, rule and headline the recorded ones, else the replay says",
            "DIFFERENT SEED or DIFFERENT VERDICT and names the field. A file of another",
            "hmm4j version replays when its format is this version's (a note says so).",
            "When the run used the lockdep graph of earlier runs, those runs are re-run",
            "first.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  hmm4j replay hmm4j-failures/S1-kvm-mmgrab-run0-seed1.json",
            "  hmm4j replay --minimal hmm4j-failures/S1-kvm-mmgrab-run0-seed1.json",
            "  hmm4j replay --steps 200 FILE      (show more of the interleaving)",
            "  hmm4j replay --html run.html --perfetto run.trace.json FILE"
        })
final class ReplayCommand implements Callable<Integer> {
    private final Supplier<List<Scenario>> catalogue;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "A failure file (JSON) written by 'hmm4j explore'.")
    private Path file;

    @Option(names = "--minimal", description = "Replay the minimised schedule stored in the file instead of the original.")
    private boolean minimal;

    @Option(names = "--steps", paramLabel = "N", description = "Trace events shown in the report (default: ${DEFAULT-VALUE}).")
    private int steps = TextReport.DEFAULT_STEPS;

    @Option(names = "--html", paramLabel = "OUT", description = "Also write the run's HTML timeline to OUT.")
    private Path html;

    @Option(names = "--perfetto", paramLabel = "OUT",
            description = "Also write the run's Perfetto / Chrome trace-event JSON to OUT.")
    private Path perfetto;

    /** The command over {@link Catalogue#all()}. */
    ReplayCommand() {
        this(Catalogue::all);
    }

    /** The command over another catalogue (for tests). */
    ReplayCommand(Supplier<List<Scenario>> catalogue) {
        this.catalogue = Objects.requireNonNull(catalogue);
    }

    @Override
    public Integer call() {
        if (steps < 1) {
            throw new ParameterException(spec.commandLine(), "--steps must be at least 1: " + steps);
        }
        FailureFile f;
        try {
            f = FailureFiles.read(file);
        } catch (FailureFiles.BadFailureFileException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        if (minimal && f.minimal() == null) {
            throw new ParameterException(spec.commandLine(), file + ": the failure file has no minimised schedule");
        }
        List<Scenario> all = catalogue.get();
        Scenario scenario = all.stream().filter(s -> s.id().equals(f.scenario())).findFirst().orElseThrow(() ->
                new ParameterException(spec.commandLine(), file + ": scenario '" + f.scenario()
                        + "' is not in the catalogue (a test's failure file replays with its test; see @Explore)"));
        ReplayResult r;
        Thread hook = new Thread(() -> JvmExits.find().ifPresent(e -> Runtime.getRuntime().halt(onExit(f, e))),
                "hmm4j-replay-exit");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            r = Explorer.replay(f, ScenarioRunner.target(scenario), minimal);
        } catch (IllegalArgumentException | FailureFiles.BadFailureFileException e) {
            throw new ParameterException(spec.commandLine(), file + ": " + e.getMessage(), e);
        } catch (ExplorationException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The replayed task is exiting the JVM: the hook reports.
            }
        }
        PrintWriter o = spec.commandLine().getOut();
        o.println("hmm4j replay " + file + ": " + r.verdictLine());
        o.println("  recorded by hmm4j " + f.version() + " with " + (f.strategy() == null ? "?" : f.strategy().description())
                + ", run " + f.runIndex() + ", seed " + f.seed() + ", " + f.decisions().size() + " decisions"
                + (minimal ? " (replaying the minimised " + f.minimal().decisions().size() + ")" : ""));
        FailureFiles.versionNote(f).ifPresent(n -> o.println("  " + n));
        o.println("  replay: " + ReportHeader.replayCommand(Main.invokedAs(spec), file) + (minimal ? " --minimal" : ""));
        try {
            if (html != null) {
                RunFiles.writeHtml(r.run(), "hmm4j replay " + file.getFileName(), ReportHeader.replayCommand(Main.invokedAs(spec), file),
                        List.of(r.verdictLine()), html);
                o.println("  timeline: " + html);
            }
            if (perfetto != null) {
                RunFiles.writePerfetto(r.run(), perfetto);
                o.println("  trace: " + perfetto);
            }
        } catch (java.io.IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot write the report: " + e.getMessage(), e);
        }
        o.println();
        o.print(TextReport.render(r.run(), steps));
        o.flush();
        return r.reproduced() ? 0 : 1;
    }

    /**
     * What a replayed task's {@code System.exit} prints, from the shutdown hook (the exit
     * cannot be intercepted on JDK 21+): reproduced when the file records this exit (the same
     * verdict after all its decisions), else a different verdict; returns the exit code.
     */
    private int onExit(FailureFile f, JvmExits.Exit e) {
        String headline = e.run().firstFailure().map(Failure::headline).orElse("?");
        boolean same = f.verdict() != null && headline.equals(f.verdict().headline())
                && e.run().steps() == f.decisions().size();
        PrintWriter o = spec.commandLine().getOut();
        o.println("hmm4j replay " + file + ": " + (same ? "REPRODUCED " + headline
                : "DIFFERENT VERDICT: recorded '" + (f.verdict() == null ? "?" : f.verdict().headline())
                + "', replay gave '" + headline + "' at step " + e.run().steps() + " of " + f.decisions().size()));
        o.println("  the JVM is exiting: task " + e.task() + " called System.exit at step " + e.run().steps()
                + " (it cannot be intercepted on JDK 21+; the replay stops here)");
        o.flush();
        return same ? 0 : 1;
    }
}
