package hmm4j.cli;

import hmm4j.explore.ExploreOptions;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.scenarios.Budget;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import hmm4j.scenarios.ScenarioOutcome;
import hmm4j.scenarios.ScenarioRunner;
import hmm4j.sim.Mark;
import hmm4j.sim.RunResult;
import hmm4j.explore.report.JsonSummary;
import hmm4j.sim.report.TextReport;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hmm4j check}: explores every scenario of the catalogue within a budget and prints
 * one row per scenario (expected verdict, actual verdict, runs, time to first failure,
 * {@code ok} or {@code MISMATCH}), then a summary line. A verdict is {@code clean} or the id
 * of a rule ({@code mem.use-after-free}, {@code lockdep.cycle}, ...): a known-bad design is as
 * expected only when its first failure breaks the rule its expectation names. A clean design
 * that lists coverage marks shows how many its exploration reached ({@code clean (9/9 marks)})
 * and is a mismatch when one is missing, named under the table. A DFS exploration that covered
 * its whole space says so under the table, per scenario. Exit code 0 iff every verdict is the
 * expected one, 4 when nothing ran (every selected scenario pending); see {@link ExitCodes}.
 */
@Command(name = "check",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Run the scenario catalogue and compare every verdict with its expectation.",
            "Each known-good and known-bad design is explored by the explorer (the",
            "portfolio strategy unless --strategy says otherwise) over consecutive seeds;",
            "the last column says ok or MISMATCH.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  hmm4j check",
            "  hmm4j check --only S1-kvm-mmgrab,S1-vhost --report",
            "  hmm4j check --strategy dfs:1 --runs 20000",
            "  hmm4j check --json > check.json",
            "  hmm4j list                      (the catalogue, without running it)",
            "  hmm4j explore S1-kvm-mmgrab    (one scenario: failure file, replay command)"
        })
final class CheckCommand implements Callable<Integer> {
    private static final List<String> HEADERS =
            List.of("scenario", "expected", "actual", "runs", "time to first failure", "verdict");
    private static final List<Table.Align> ALIGNS = List.of(Table.Align.LEFT, Table.Align.LEFT,
            Table.Align.LEFT, Table.Align.RIGHT, Table.Align.RIGHT, Table.Align.LEFT);

    private final Supplier<List<Scenario>> catalogue;
    private final BiFunction<Scenario, Budget, ScenarioOutcome> runner;

    @Spec
    private CommandSpec spec;

    @Option(names = "--runs", paramLabel = "N",
            description = "Seeds to run per scenario; a known-bad design stops at its first failure "
                    + "(default: ${DEFAULT-VALUE}).")
    private int runs = Budget.DEFAULT.runs();

    @Option(names = "--seed", paramLabel = "S", description = "First seed (default: ${DEFAULT-VALUE}).")
    private long seed = Budget.DEFAULT.firstSeed();

    @Option(names = "--max-steps", paramLabel = "N",
            description = "Scheduling decisions allowed per run (default: ${DEFAULT-VALUE}).")
    private long maxSteps = Budget.DEFAULT.maxSteps();

    @Option(names = "--strategy", paramLabel = "S", converter = StrategyConverter.class,
            description = "Scheduling strategy: random, pct[:DEPTH], pos, dfs[:BOUND] or portfolio "
                    + "(default: ${DEFAULT-VALUE}).")
    private StrategySpec strategy = Budget.DEFAULT.strategy();

    @Option(names = "--workers", paramLabel = "N",
            description = "Worker threads, one kernel each (default: one per processor). The verdicts do not depend on it.")
    private Integer workers;

    @Option(names = "--lanes", paramLabel = "N",
            description = "Sequences of runs that share the lockdep graph (default: ${DEFAULT-VALUE}). Part of the "
                    + "exploration's identity, like the seed.")
    private int lanes = ExploreOptions.DEFAULT_LANES;

    @Option(names = "--only", split = ",", paramLabel = "ID",
            description = "Run only these scenarios (comma-separated ids).")
    private List<String> only;

    @Option(names = "--series", paramLabel = "NAME",
            description = "Run only the scenarios of a patch series and print one row per patch after the table "
                    + "(known: hmm2019, the 2019 HMM review).")
    private String series;

    @Option(names = "--report", description = "After the table, print the text report of every failing run "
            + "(not with --json).")
    private boolean report;

    @Option(names = "--json", description = "Print the outcome as JSON (for scripts and CI) instead of the table, "
            + "with the version, the options and each scenario's seeds.")
    private boolean json;

    /** The command over {@link Catalogue#all()} and {@link ScenarioRunner#run}. */
    CheckCommand() {
        this(Catalogue::all, ScenarioRunner::run);
    }

    /** The command over another catalogue and runner (for tests). */
    CheckCommand(Supplier<List<Scenario>> catalogue, BiFunction<Scenario, Budget, ScenarioOutcome> runner) {
        this.catalogue = Objects.requireNonNull(catalogue);
        this.runner = Objects.requireNonNull(runner);
    }

    /** Runs the selected scenarios, prints the table; 0 iff all as expected, 4 if none ran, else 1. */
    @Override
    public Integer call() {
        Options.atLeast(spec, "--runs", runs, 1);
        Options.atLeast(spec, "--max-steps", maxSteps, 1);
        if (report && json) {
            throw new ParameterException(spec.commandLine(), "--report prints text reports and --json a JSON document: "
                    + "give one of them (the JSON has every failure's rule, headline, seed and site)");
        }
        Options.atLeast(spec, "--workers", workers, 1);
        Options.atLeast(spec, "--lanes", lanes, 1);
        Budget budget = new Budget(runs, seed, maxSteps, strategy, workers == null ? 0 : workers, lanes);
        List<Scenario> selected = select(catalogue.get());
        if (series != null) {
            if (!SeriesView.names().contains(series)) {
                throw new ParameterException(spec.commandLine(), "Unknown series '" + series + "' (known: "
                        + String.join(", ", SeriesView.names()) + ")");
            }
            Set<String> ids = SeriesView.ids(series);
            selected = selected.stream().filter(s -> ids.contains(s.id())).toList();
        }
        List<ScenarioOutcome> outcomes = new ArrayList<>(selected.size());
        for (Scenario s : selected) {
            outcomes.add(runner.apply(s, budget));
        }
        PrintWriter out = spec.commandLine().getOut();
        long matching = outcomes.stream().filter(ScenarioOutcome::asExpected).count();
        boolean nothingRan = outcomes.stream().allMatch(o -> o.scenario().expectation().isPending());
        int code = nothingRan ? ExitCodes.NOTHING_RAN : matching == outcomes.size() ? ExitCodes.CLEAN : ExitCodes.FOUND;
        if (json) {
            out.print(JsonSummary.render(jsonRun(outcomes), outcomes.stream().map(CheckCommand::jsonEntry).toList()));
            out.flush();
            return code;
        }
        out.print(table(outcomes).render());
        if (series != null) {
            out.println();
            out.print(SeriesView.table(outcomes).render());
        }
        missingMarkLines(outcomes).forEach(out::println);
        exhaustedLines(outcomes).forEach(out::println);
        if (report) {
            printReports(out, outcomes);
        }
        long asExpected = outcomes.stream().filter(ScenarioOutcome::asExpected).count();
        long pending = outcomes.stream().filter(o -> o.scenario().expectation().isPending()).count();
        out.println();
        out.println(outcomes.size() + (outcomes.size() == 1 ? " scenario, " : " scenarios, ") + asExpected
                + " as expected"
                + (pending > 0 ? " (" + pending + " pending)" : ""));
        if (!report && outcomes.stream().anyMatch(o -> !o.asExpected() && o.firstFailure().isPresent())) {
            out.println("see the failing runs with: " + Main.invokedAs(spec) + " check --report --only " + outcomes.stream()
                    .filter(o -> !o.asExpected() && o.firstFailure().isPresent())
                    .map(o -> o.scenario().id()).collect(Collectors.joining(",")));
        }
        if (nothingRan) {
            out.println("nothing ran: every selected scenario is pending (exit " + ExitCodes.NOTHING_RAN + ")");
        }
        out.flush();
        return code;
    }

    /** One line per scenario whose DFS exploration covered its whole space. */
    static List<String> exhaustedLines(List<ScenarioOutcome> outcomes) {
        return outcomes.stream().filter(o -> o.exhaustedAtBound().isPresent())
                .map(o -> o.scenario().id() + ": space exhausted at bound " + o.exhaustedAtBound().get() + " ("
                        + o.runs() + " schedule" + (o.runs() == 1 ? "" : "s") + ")")
                .toList();
    }

    /** The {@code "hmm4j"} object of the JSON: version, options, seeds, exhausted searches. */
    private JsonSummary.Run jsonRun(List<ScenarioOutcome> outcomes) {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("runs", runs);
        options.put("seed", seed);
        options.put("maxSteps", maxSteps);
        options.put("strategy", strategy.text());
        options.put("only", only == null ? List.of() : List.copyOf(only));
        Map<String, Map<String, Object>> perScenario = new LinkedHashMap<>();
        for (ScenarioOutcome o : outcomes) {
            o.exhaustedAtBound().ifPresent(k -> perScenario.put(o.scenario().id(), Map.of("exhaustedAtBound", k)));
        }
        return new JsonSummary.Run(VersionProvider.version(), options, seed, perScenario);
    }

    /** The table of outcomes, one row each, in the given order. */
    static Table table(List<ScenarioOutcome> outcomes) {
        Table t = new Table(HEADERS, ALIGNS);
        for (ScenarioOutcome o : outcomes) {
            var e = o.scenario().expectation();
            t.addRow(o.scenario().id(),
                    e.ruleId(),
                    e.isPending() ? "pending (" + e.pending() + ")" : actualWithMarks(o),
                    e.isPending() ? "-" : String.valueOf(o.runs()),
                    o.nanosToFirstFailure() < 0 ? "-" : millis(o.nanosToFirstFailure()),
                    o.asExpected() ? "ok" : "MISMATCH");
        }
        return t;
    }

    /** The actual verdict with the marks reached, e.g. {@code clean (9/9 marks)}. */
    static String actualWithMarks(ScenarioOutcome o) {
        return o.actualRuleId() + o.marksLine().map(m -> " (" + m + ")").orElse("");
    }

    /** One line per scenario that missed listed marks: {@code <id>: marks not reached: a, b}. */
    static List<String> missingMarkLines(List<ScenarioOutcome> outcomes) {
        return outcomes.stream().filter(o -> !o.missingMarks().isEmpty())
                .map(o -> o.scenario().id() + ": marks not reached: " + o.missingMarks().stream()
                        .map(Mark::id).collect(Collectors.joining(", ")))
                .toList();
    }

    /** One scenario of the {@code --json} output. */
    static JsonSummary.Scenario jsonEntry(ScenarioOutcome o) {
        var e = o.scenario().expectation();
        long nanos = o.nanosToFirstFailure() >= 0 ? o.nanosToFirstFailure() : o.totalNanos();
        return new JsonSummary.Scenario(o.scenario().id(), o.scenario().title(), e.label(),
                e.isPending() ? "pending" : o.actual(), e.ruleId(), o.actualRuleId(), o.asExpected(),
                e.isPending() ? 0 : o.runs(),
                nanos / 1_000_000.0, o.firstFailure().map(r -> JsonSummary.FailureEntry.of(r, null)).stream().toList(),
                e.marks().isEmpty() || e.isPending() ? Optional.empty() : Optional.of(new JsonSummary.MarksEntry(
                        ids(e.marks()), ids(o.marks().marks()), ids(o.missingMarks()))));
    }

    private static List<String> ids(List<Mark> marks) {
        return marks.stream().map(Mark::id).toList();
    }

    /** Nanoseconds as milliseconds with one decimal, e.g. {@code 12.3 ms}. */
    static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1_000_000.0);
    }

    /** The catalogue in its order, restricted to {@code --only} when given. */
    private List<Scenario> select(List<Scenario> all) {
        if (only == null || only.isEmpty()) {
            return all;
        }
        Set<String> wanted = new LinkedHashSet<>(only);
        Set<String> known = all.stream().map(Scenario::id).collect(Collectors.toCollection(LinkedHashSet::new));
        List<String> unknown = wanted.stream().filter(id -> !known.contains(id)).toList();
        if (!unknown.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "Unknown scenario"
                    + (unknown.size() > 1 ? "s" : "") + ": '" + String.join("', '", unknown)
                    + "' (known: " + String.join(", ", known) + ")");
        }
        return all.stream().filter(s -> wanted.contains(s.id())).toList();
    }

    private static void printReports(PrintWriter out, List<ScenarioOutcome> outcomes) {
        for (ScenarioOutcome o : outcomes) {
            if (o.firstFailure().isEmpty()) {
                continue;
            }
            RunResult r = o.firstFailure().get();
            out.println();
            out.println("== " + o.scenario().id() + ": " + o.scenario().title());
            out.print(TextReport.render(r));
        }
    }
}
