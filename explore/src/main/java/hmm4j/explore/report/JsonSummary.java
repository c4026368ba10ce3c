package hmm4j.explore.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code --json} output of a check or an exploration, for scripts and CI: per scenario
 * the expected and actual verdicts (as failure labels and as rule ids), whether they match,
 * the runs, the time, and the failures found with their kind, rule, headline and seed.
 *
 * <p>API: build one {@link Scenario} per scenario run (a failure from a {@link RunResult}
 * with {@link FailureEntry#of(RunResult, String)}), then {@link #render(List)}:
 *
 * <pre>{@code
 * var entry = new JsonSummary.Scenario(id, title, expected.label(), actual, expectedRule, actualRule,
 *         asExpected, runs, millis,
 *         outcome.firstFailure().map(r -> JsonSummary.FailureEntry.of(r, replayCommand)).stream().toList());
 * out.print(JsonSummary.render(List.of(entry, ...)));
 * }</pre>
 *
 * <p>Output (pretty-printed with two-space indentation, {@code \n} line ends, one trailing
 * newline; fields in this order):
 *
 * <pre>{@code
 * { "scenarios" : [
 *     { "id" : "S3a-hmm-no-grace", "title" : "...", "expected" : "use-after-free",
 *       "actual" : "use-after-free", "expectedRule" : "mem.use-after-free",
 *       "actualRule" : "mem.use-after-free", "asExpected" : true, "runs" : 17, "timeMs" : 200.5,
 *       "failures" : [
 *         { "kind" : "USE_AFTER_FREE", "label" : "use-after-free", "rule" : "mem.use-after-free",
 *           "headline" : "...",
 *           "seed" : 17, "strategy" : "random-walk(seed=17)", "steps" : 58,
 *           "task" : "unmapper", "step" : 58, "where" : "MmuNotifier.touch(...)",
 *           "replay" : "hmm4j replay ..." } ],
 *       "marks" : { "expected" : [ "mn.interval.read-retry" ], "reached" : [ "mn.interval.read-retry" ],
 *                   "missing" : [ ] } } ],
 *   "summary" : { "scenarios" : 1, "asExpected" : 1, "mismatches" : 0 } }
 * }</pre>
 * {@code timeMs} is rounded to one decimal; {@code kind} is the stable
 * {@link hmm4j.sim.failure.FailureKind} name, {@code label} its human form (as the table
 * prints it); {@code rule} is the id of the {@link hmm4j.sim.rule.Rule} the failure broke;
 * {@code replay} is present when the caller gave one; a run that diverged from its schedule
 * has kind and rule {@code DIVERGED}; {@code marks} is present for a clean design that lists
 * the coverage marks its exploration must reach ({@code reached} lists every mark reached).
 */
@HiddenFromSites
public final class JsonSummary {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private JsonSummary() {
    }

    /**
     * A failing run.
     *
     * @param kind          the {@link hmm4j.sim.failure.FailureKind} name, or {@code DIVERGED}
     * @param label         the kind's label, e.g. {@code use-after-free}
     * @param rule          the id of the rule broken, e.g. {@code mem.use-after-free}, or {@code DIVERGED}
     * @param headline      the failure's one-line headline
     * @param seed          the run's seed
     * @param strategy      the strategy description, e.g. {@code random-walk(seed=17)}
     * @param steps         scheduling decisions of the run
     * @param task          the task the failure happened in
     * @param step          the step it happened at
     * @param where         its innermost code frame, or {@code ?}
     * @param replayCommand the command that replays the run, if the caller has one
     */
    public record FailureEntry(String kind, String label, String rule, String headline, long seed, String strategy, long steps,
                               String task, long step, String where, Optional<String> replayCommand) {
        public FailureEntry {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(label, "label");
            Objects.requireNonNull(rule, "rule");
            Objects.requireNonNull(headline, "headline");
            Objects.requireNonNull(strategy, "strategy");
            Objects.requireNonNull(task, "task");
            Objects.requireNonNull(where, "where");
            replayCommand = Objects.requireNonNull(replayCommand, "replayCommand").filter(c -> !c.isBlank());
        }

        /** The entry of a failing (or diverged) run; {@code replayCommand} may be null. */
        public static FailureEntry of(RunResult run, String replayCommand) {
            Optional<String> replay = Optional.ofNullable(replayCommand);
            Optional<Failure> f = run.firstFailure();
            if (f.isEmpty()) {
                return new FailureEntry("DIVERGED", "diverged", "DIVERGED", run.divergence().orElse("no failure"), run.seed(),
                        run.strategy(), run.steps(), "", run.steps(), "?", replay);
            }
            Failure x = f.get();
            return new FailureEntry(x.kind().name(), x.kind().label(), x.rule().id(), x.headline(), run.seed(), run.strategy(),
                    run.steps(), x.site().task(), x.site().step(), x.site().where(), replay);
        }
    }

    /**
     * One scenario's outcome.
     *
     * @param id         the scenario id, e.g. {@code S3a-hmm-no-grace}
     * @param title      its title
     * @param expected   the expected verdict label ({@code clean} or a failure label)
     * @param actual     the actual verdict label ({@code clean}, a failure label, {@code pending}, ...)
     * @param expectedRule the expected rule's id, or {@code clean}
     * @param actualRule the id of the rule the first failure broke, or {@code clean}, {@code pending}, ...
     * @param asExpected true when the actual verdict is the expected one
     * @param runs       runs executed
     * @param timeMs     wall time in milliseconds (to the first failure, or of all runs)
     * @param failures   the failing runs reported, first first
     * @param marks      the coverage marks of a design that lists them
     */
    public record Scenario(String id, String title, String expected, String actual, String expectedRule,
                           String actualRule, boolean asExpected, long runs, double timeMs,
                           List<FailureEntry> failures, Optional<MarksEntry> marks) {
        public Scenario {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(expected, "expected");
            Objects.requireNonNull(actual, "actual");
            Objects.requireNonNull(expectedRule, "expectedRule");
            Objects.requireNonNull(actualRule, "actualRule");
            failures = List.copyOf(failures);
            Objects.requireNonNull(marks, "marks");
        }

        /** A scenario that lists no coverage marks. */
        public Scenario(String id, String title, String expected, String actual, String expectedRule,
                        String actualRule, boolean asExpected, long runs, double timeMs, List<FailureEntry> failures) {
            this(id, title, expected, actual, expectedRule, actualRule, asExpected, runs, timeMs, failures,
                    Optional.empty());
        }
    }

    /**
     * The coverage marks of a scenario, by id ({@link hmm4j.sim.Mark}).
     *
     * @param expected the marks its exploration must reach
     * @param reached  every mark its exploration reached
     * @param missing  the expected marks not reached
     */
    public record MarksEntry(List<String> expected, List<String> reached, List<String> missing) {
        public MarksEntry {
            expected = List.copyOf(expected);
            reached = List.copyOf(reached);
            missing = List.copyOf(missing);
        }
    }

    /**
     * What was run, for the {@code "hmm4j"} object that {@link #render(Run, List)} writes first:
     * the version, the options as given (simple values: strings, numbers, booleans, lists of
     * strings) and the seeds, run {@code r} of a scenario having seed {@code firstSeed + r}.
     *
     * @param version    the hmm4j version
     * @param options    the options by name (e.g. {@code runs}, {@code strategy}), in order
     * @param firstSeed  the seed of run 0 of every scenario
     * @param perScenario further fields of a scenario's entry by its id (e.g. where a search
     *                   was exhausted), written after its own fields
     */
    public record Run(String version, java.util.Map<String, Object> options, long firstSeed,
                      java.util.Map<String, java.util.Map<String, Object>> perScenario) {
        public Run {
            Objects.requireNonNull(version, "version");
            options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
            perScenario = java.util.Map.copyOf(perScenario);
        }
    }

    /** The JSON document for {@code scenarios}, in their order. */
    public static String render(List<Scenario> scenarios) {
        return render(null, scenarios);
    }

    /**
     * The JSON document for {@code scenarios}, in their order, led by an {@code "hmm4j"} object
     * with the version and options of {@code run}; each scenario that ran also has
     * {@code "seeds": {"first": F, "last": L}}, the seeds of its runs.
     */
    public static String render(Run run, List<Scenario> scenarios) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            DefaultPrettyPrinter pretty = new DefaultPrettyPrinter().withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE
                    .withLinefeed("\n"));
            g.setPrettyPrinter(pretty.withObjectIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n")));
            g.writeStartObject();
            if (run != null) {
                g.writeObjectFieldStart("hmm4j");
                g.writeStringField("version", run.version());
                g.writeObjectFieldStart("options");
                values(g, run.options());
                g.writeEndObject();
                g.writeNumberField("firstSeed", run.firstSeed());
                g.writeEndObject();
            }
            g.writeArrayFieldStart("scenarios");
            for (Scenario s : scenarios) {
                scenario(g, s, run);
            }
            g.writeEndArray();
            long ok = scenarios.stream().filter(Scenario::asExpected).count();
            g.writeObjectFieldStart("summary");
            g.writeNumberField("scenarios", scenarios.size());
            g.writeNumberField("asExpected", ok);
            g.writeNumberField("mismatches", scenarios.size() - ok);
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out + "\n";
    }

    private static void values(JsonGenerator g, java.util.Map<String, Object> values) throws IOException {
        for (var e : values.entrySet()) {
            Object v = e.getValue();
            if (v == null) {
                g.writeNullField(e.getKey());
            } else if (v instanceof Boolean b) {
                g.writeBooleanField(e.getKey(), b);
            } else if (v instanceof Long || v instanceof Integer) {
                g.writeNumberField(e.getKey(), ((Number) v).longValue());
            } else if (v instanceof List<?> list) {
                stringArray(g, e.getKey(), list.stream().map(String::valueOf).toList());
            } else {
                g.writeStringField(e.getKey(), String.valueOf(v));
            }
        }
    }

    private static void scenario(JsonGenerator g, Scenario s, Run run) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", s.id());
        g.writeStringField("title", s.title());
        g.writeStringField("expected", s.expected());
        g.writeStringField("actual", s.actual());
        g.writeStringField("expectedRule", s.expectedRule());
        g.writeStringField("actualRule", s.actualRule());
        g.writeBooleanField("asExpected", s.asExpected());
        g.writeNumberField("runs", s.runs());
        g.writeNumberField("timeMs", Math.round(s.timeMs() * 10) / 10.0);
        g.writeArrayFieldStart("failures");
        for (FailureEntry f : s.failures()) {
            g.writeStartObject();
            g.writeStringField("kind", f.kind());
            g.writeStringField("label", f.label());
            g.writeStringField("rule", f.rule());
            g.writeStringField("headline", f.headline());
            g.writeNumberField("seed", f.seed());
            g.writeStringField("strategy", f.strategy());
            g.writeNumberField("steps", f.steps());
            g.writeStringField("task", f.task());
            g.writeNumberField("step", f.step());
            g.writeStringField("where", f.where());
            if (f.replayCommand().isPresent()) {
                g.writeStringField("replay", f.replayCommand().get());
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        if (s.marks().isPresent()) {
            MarksEntry m = s.marks().get();
            g.writeObjectFieldStart("marks");
            stringArray(g, "expected", m.expected());
            stringArray(g, "reached", m.reached());
            stringArray(g, "missing", m.missing());
            g.writeEndObject();
        }
        if (run != null && s.runs() > 0) {
            g.writeObjectFieldStart("seeds");
            g.writeNumberField("first", run.firstSeed());
            g.writeNumberField("last", run.firstSeed() + s.runs() - 1);
            g.writeEndObject();
        }
        if (run != null && run.perScenario().containsKey(s.id())) {
            values(g, run.perScenario().get(s.id()));
        }
        g.writeEndObject();
    }

    private static void stringArray(JsonGenerator g, String name, List<String> values) throws IOException {
        g.writeArrayFieldStart(name);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }
}
