package hmm4j.cli;

import hmm4j.explore.ExplorationException;
import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.FoundFailure;
import hmm4j.explore.MarkCoverage;
import hmm4j.explore.ProgressBar;
import hmm4j.explore.ReportHeader;
import hmm4j.explore.Shard;
import hmm4j.explore.report.RunFiles;
import hmm4j.explore.shard.ShardEnvironment;
import hmm4j.explore.shard.ShardMerge;
import hmm4j.explore.shard.ShardResult;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Expectation;
import hmm4j.scenarios.Scenario;
import hmm4j.scenarios.ScenarioRunner;
import hmm4j.sim.Mark;
import hmm4j.sim.report.TextReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hmm4j explore SCENARIO}: explores one scenario of the catalogue with the explorer
 * and prints the verdict; on a failure, the report header (who found it, the minimisation,
 * the failure file and the replay command) and the text report of the failing run. With
 * {@code --shard i/n} (or {@code --shard auto}, read from a batch engine's environment by
 * {@link hmm4j.explore.shard.ShardEnvironment}) it also writes the shard's result for
 * {@code hmm4j merge}. On Ctrl-C a
 * shutdown hook ({@link Interrupt}) clears the progress bar, prints what was explored and
 * where the failure found so far is saved; the JVM then exits with 130.
 */
@Command(name = "explore",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Explore one scenario under controlled scheduling and report the first",
            "failing interleaving. Every run gets a fresh simulated kernel with the",
            "checkers installed and ends with the end-of-run checks. A failure is",
            "replayed with its full trace, minimised, written to a failure file and",
            "printed with the command that replays it.",
            ""
        },
        footer = {
            "",
            "Strategies:",
            "  portfolio   rotates pct:3, random, pos and pct:2 by run (the default)",
            "  random      a uniform random walk",
            "  pct[:D]     probabilistic concurrency testing with bug depth D (default 3)",
            "  pos         partial order sampling",
            "  dfs[:K]     every schedule with at most K preemptions (default 2), then",
            "              'space exhausted at bound K'",
            "",
            "Examples:",
            "  hmm4j explore S1-kvm-mmgrab",
            "  hmm4j explore S1-kvm-mmgrab --strategy pct:3 --runs 5000 --seed 42",
            "  hmm4j explore S1-vhost --strategy dfs:2 --runs 100000",
            "  hmm4j explore S3a-get-put --time 30s",
            "  hmm4j explore S1-vhost --shard 0/4 --out shards    (one per machine, then:)",
            "  hmm4j merge shards/S1-vhost-shard-*-of-4.json",
            "  hmm4j explore S1-vhost --shard auto --out /results   (in a Kubernetes",
            "              Indexed Job, a Slurm array job or a CI matrix: docs/sharding.md)",
            "  hmm4j replay hmm4j-failures/S1-kvm-mmgrab-run0-seed1.json",
            "",
            "--time alone bounds the exploration by time only; --time with --runs stops",
            "at whichever comes first.",
            "",
            "Ctrl-C prints what was explored so far (and where a failure found is saved)",
            "on standard error and exits 130 (interrupted)."
        })
final class ExploreCommand implements Callable<Integer> {
    private final Supplier<List<Scenario>> catalogue;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SCENARIO", description = "The scenario id, e.g. S1-kvm-mmgrab ('hmm4j list' lists them).")
    private String scenarioId;

    @Option(names = "--strategy", paramLabel = "S", converter = StrategyConverter.class,
            description = "Scheduling strategy (default: ${DEFAULT-VALUE}).")
    private StrategySpec strategy = StrategySpec.PORTFOLIO;

    @Option(names = "--runs", paramLabel = "N", description = "Runs to explore (default: "
            + ExploreOptions.DEFAULT_RUNS + "; with --time alone, as many as the time allows).")
    private Integer runs;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of run 0; run r has seed S + r (default: ${DEFAULT-VALUE}).")
    private long seed = ExploreOptions.DEFAULT_FIRST_SEED;

    @Option(names = "--time", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Wall-clock budget, e.g. 30s, 5m, 500ms (default: none). A budget of its own: "
                    + "without --runs, runs go on until the time is up; with --runs, whichever ends first.")
    private Duration time;

    @Option(names = "--max-steps", paramLabel = "N",
            description = "Scheduling decisions per run; a run that needs more is reported as a livelock "
                    + "(default: ${DEFAULT-VALUE}).")
    private long maxSteps = ExploreOptions.DEFAULT_MAX_STEPS;

    @Option(names = "--workers", paramLabel = "N",
            description = "Worker threads, one kernel each (default: one per processor). The result does not depend on it.")
    private Integer workers;

    @Option(names = "--lanes", paramLabel = "N",
            description = "Sequences of runs that share the lockdep graph (default: ${DEFAULT-VALUE}). Part of the "
                    + "exploration's identity, like the seed.")
    private int lanes = ExploreOptions.DEFAULT_LANES;

    @Option(names = "--shard", paramLabel = "I/N|auto",
            description = "Explore only the runs r with r mod N = I, and write the shard result for 'hmm4j merge'. "
                    + "'auto' reads I and N from the batch engine's environment (Kubernetes Indexed Job, Slurm array "
                    + "job, GitLab/CircleCI/Buildkite parallel jobs, or HMM4J_SHARD_INDEX and HMM4J_SHARD_COUNT); "
                    + "none found: exit 2.")
    private String shardText = Shard.ALL.toString();

    private Shard shard = Shard.ALL;

    @Option(names = "--out", paramLabel = "DIR", description = "Directory for failure files and shard results "
            + "(default: ${DEFAULT-VALUE}).")
    private Path out = Path.of("hmm4j-failures");

    @Option(names = "--no-minimise", description = "Do not minimise the failing schedule.")
    private boolean noMinimise;

    @Option(names = "--exit-zero-on-failure",
            description = "Exit 0 when a failure is found too (it is in the failure file and the shard result): for a "
                    + "shard of a batch job, whose merge step gives the verdict; bad input still exits 2.")
    private boolean exitZeroOnFailure;

    /** The command over {@link Catalogue#all()}. */
    ExploreCommand() {
        this(Catalogue::all);
    }

    /** The command over another catalogue (for tests). */
    ExploreCommand(Supplier<List<Scenario>> catalogue) {
        this.catalogue = Objects.requireNonNull(catalogue);
    }

    @Override
    public Integer call() throws IOException {
        Scenario scenario = find(catalogue.get(), scenarioId, spec);
        Optional<ShardEnvironment.Found> fromEnvironment = resolveShard();
        validate();
        int runBudget = runs != null ? runs : time != null ? ExploreOptions.UNBOUNDED_RUNS : ExploreOptions.DEFAULT_RUNS;
        ExploreOptions options;
        ProgressBar bar = ProgressBar.tracking(scenario.id());
        try {
            options = ExploreOptions.defaults().withStrategy(strategy).withRuns(runBudget).withFirstSeed(seed)
                    .withTimeBudget(time).withMaxSteps(maxSteps).withLanes(lanes).withShard(shard).withOutDir(out)
                    .withMinimise(!noMinimise).withProgress(bar);
            if (workers != null) {
                options = options.withWorkers(workers);
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        ExplorationResult result;
        Interrupt interrupt = new Interrupt(bar);
        Thread hook = new Thread(() -> {
            Optional<FoundFailure> exit = hmm4j.explore.Explorer.exitInProgress();
            if (exit.isPresent()) {
                interrupt.onExit(spec.commandLine().getErr(), scenario.id(), exit.get(), Main.invokedAs(spec));
                Runtime.getRuntime().halt(ExitCodes.FOUND);
            }
            interrupt.onInterrupt(spec.commandLine().getErr(), Interrupt.WAIT_FOR_FILE);
        }, "hmm4j-explore-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            result = ScenarioRunner.explore(scenario, options);
            interrupt.explored(result);
        } catch (ExplorationException e) {
            interrupt.explored(null);
            throw new IllegalStateException(e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            interrupt.explored(null);
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C came as the exploration ended: the hook runs and reports.
            }
        }
        PrintWriter o = spec.commandLine().getOut();
        fromEnvironment.ifPresent(f -> o.println("hmm4j explore " + scenario.id() + ": " + f.describe()));
        o.print(ReportHeader.render(result, result.failure().flatMap(FoundFailure::file)
                .map(f -> ReportHeader.replayCommand(Main.invokedAs(spec), f)).orElse(null)));
        o.println("  expected: " + expectedLine(scenario.expectation()) + " (" + scenario.title() + ")");
        result.spaceLine().filter(x -> result.failure().isPresent()).ifPresent(x -> o.println("  " + x));
        printMarks(o, scenario.expectation().marks(), result.marks());
        if (shard.count() > 1) {
            Path file = out.resolve(ShardResult.fileName(scenario.id(), shard));
            ShardMerge.write(ShardResult.of(result), file);
            o.println("  shard result: " + file + " (join the shards with: " + Main.invokedAs(spec) + " merge "
                    + out.resolve(ShardResult.filePattern(scenario.id(), shard.count())) + ")");
        }
        if (result.failure().isPresent()) {
            FoundFailure found = result.failure().get();
            if (found.file().isPresent()) {
                Path[] files = RunFiles.companions(found.file().get());
                String replay = ReportHeader.replayCommand(Main.invokedAs(spec), found.file().get());
                hmm4j.sim.RunResult minimal = found.minimalRun(ScenarioRunner.target(scenario)).orElse(null);
                RunFiles.writeHtml(minimal, found.run(), "hmm4j explore " + scenario.id(), replay,
                        List.of(scenario.title(), "expected: " + expectedLine(scenario.expectation())), files[0]);
                RunFiles.writePerfetto(found.run(), files[1]);
                o.println("  timeline: " + files[0] + (minimal != null ? " (the minimised run, the run as found a click "
                        + "away; open in a browser)" : " (open in a browser)"));
                o.println("  trace: " + files[1] + " (open in https://ui.perfetto.dev or chrome://tracing)");
            }
            o.println();
            o.print(TextReport.render(found.run()));
        }
        o.flush();
        return result.clean() || exitZeroOnFailure ? ExitCodes.CLEAN : ExitCodes.FOUND;
    }

    /** {@code --shard}: {@code I/N}, or {@code auto} read from the environment (then returned). */
    private Optional<ShardEnvironment.Found> resolveShard() {
        try {
            if ("auto".equals(shardText.strip())) {
                ShardEnvironment.Found found = ShardEnvironment.read(Main.environment(spec));
                shard = found.shard();
                return Optional.of(found);
            }
            shard = Shard.parse(shardText);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), shardText.strip().equals("auto") ? e.getMessage()
                    : "--shard: " + e.getMessage() + " or auto", e);
        }
    }

    /** Checks every option before any work, in the options' own terms. */
    private void validate() {
        Options.atLeast(spec, "--runs", runs, 1);
        Options.atLeast(spec, "--max-steps", maxSteps, 1);
        Options.atLeast(spec, "--workers", workers, 1);
        Options.atLeast(spec, "--lanes", lanes, 1);
        Options.directory(spec, "--out", out);
        if (strategy.sequential() && shard.count() > 1) {
            throw new ParameterException(spec.commandLine(), "--strategy " + strategy.text()
                    + " cannot be sharded: its runs depend on each other (use --shard with random, pct, pos or portfolio)");
        }
    }

    /**
     * The coverage marks reached, {@code id (runs)} each, and for a design that lists marks how
     * many of them were reached and which were not; nothing when there is neither.
     */
    static void printMarks(PrintWriter o, List<Mark> listed, MarkCoverage marks) {
        if (!marks.reached().isEmpty()) {
            o.println("  marks reached: " + marks.summary());
        }
        if (!listed.isEmpty()) {
            List<Mark> missing = marks.missing(listed);
            o.println("  marks listed: " + (listed.size() - missing.size()) + "/" + listed.size() + " reached"
                    + (missing.isEmpty() ? "" : "; not reached: "
                    + missing.stream().map(Mark::id).collect(Collectors.joining(", "))));
        }
    }

    /** The scenario with {@code id}, or a wrong-argument error listing the known ids. */
    static Scenario find(List<Scenario> all, String id, CommandSpec spec) {
        return all.stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow(() ->
                new ParameterException(spec.commandLine(), "Unknown scenario: '" + id + "' (known: "
                        + all.stream().map(Scenario::id).collect(Collectors.joining(", ")) + ")"));
    }

    /**
     * What Ctrl-C prints: the body of the explore command's shutdown hook, callable directly.
     * The explorer writes a failure file once the exploration has stopped and the failure is
     * replayed and minimised, not as runs fail; so when a failure was found the hook waits
     * a bounded time for the exploration to hand over its result and prints the file's path,
     * else says how to get it.
     */
    static final class Interrupt {
        /** How long the hook waits for the failure file of a failure already found. */
        static final Duration WAIT_FOR_FILE = Duration.ofSeconds(10);

        private final ProgressBar bar;
        private final CompletableFuture<Optional<ExplorationResult>> result = new CompletableFuture<>();

        Interrupt(ProgressBar bar) {
            this.bar = Objects.requireNonNull(bar);
        }

        /** The exploration returned {@code r} (null when it failed). */
        void explored(ExplorationResult r) {
            result.complete(Optional.ofNullable(r));
        }

        /**
         * What a driver task's {@code System.exit} prints (it cannot be intercepted on JDK 21+,
         * but it runs the shutdown hooks): the bar cleared, the task that called exit and the
         * run, what was explored so far, and the failure file of that run (its decisions up to
         * the exit) with its replay command. The hook then halts the JVM with
         * {@link ExitCodes#FOUND}, so that a driver's {@code System.exit(0)} never passes for
         * a clean exploration.
         */
        void onExit(PrintWriter err, String scenario, FoundFailure exit, String tool) {
            bar.finished();
            err.println("hmm4j explore " + scenario + ": FAIL the JVM is exiting: task " + exit.failure()
                    .map(f -> f.site().task()).orElse("?") + " called System.exit in run " + exit.runIndex()
                    + " (seed " + exit.seed() + ") at step " + exit.run().steps()
                    + " (a driver's exit cannot be intercepted on JDK 21+; the exploration stops here)");
            exit.failure().map(f -> f.site().frames()).filter(l -> !l.isEmpty())
                    .ifPresent(l -> err.println("  called from " + l.get(0)));
            err.println("  explored so far: " + bar.summary());
            if (exit.file().isPresent()) {
                err.println("  failure saved: " + exit.file().get() + " (the run's decisions up to the exit)");
                err.println("  replay: " + ReportHeader.replayCommand(tool, exit.file().get()));
            } else {
                err.println("  failure not saved: the failure file could not be written");
            }
            err.flush();
        }

        /** Clears the bar and prints the summary and the failure file (or why there is none) on {@code err}. */
        void onInterrupt(PrintWriter err, Duration wait) {
            bar.finished();
            err.println("interrupted: " + bar.summary());
            if (bar.failures() == 0) {
                err.println("  no failure found so far: nothing to save");
            } else {
                Optional<Path> file = failureFile(wait);
                if (file.isPresent()) {
                    err.println("  failure saved: " + file.get());
                } else {
                    err.println("  failure not saved: the failure file is written once the failing run is replayed "
                            + "and minimised, and that had not finished; explore again with the same options "
                            + "(--no-minimise saves it sooner)");
                }
            }
            err.flush();
        }

        private Optional<Path> failureFile(Duration wait) {
            try {
                return result.get(wait.toMillis(), TimeUnit.MILLISECONDS)
                        .flatMap(ExplorationResult::failure).flatMap(FoundFailure::file);
            } catch (TimeoutException | ExecutionException e) {
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    /** {@code clean}, or the expected rule's id with its failure kind, e.g. {@code mm.pin (address space used without mmget)}. */
    static String expectedLine(Expectation e) {
        return e.expectsClean() ? "clean" : e.ruleId() + " (" + e.label() + ")";
    }
}
