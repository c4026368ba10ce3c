package hmm4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Expectation;
import hmm4j.scenarios.Scenario;
import hmm4j.sim.Mark;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hmm4j list}: the scenario catalogue without running it: per scenario its expected
 * verdict (the failure kind or {@code clean}), the id of the rule its exploration must break
 * ({@code clean} for a known-good design), the coverage marks a clean design's exploration
 * must reach, and its title; pending scenarios say why. {@code --json} gives the same for
 * scripts.
 */
@Command(name = "list",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "List the scenario catalogue without running it. Each scenario is shown with",
            "its expected verdict, the rule its exploration must break (clean for a",
            "known-good design), how many coverage marks a clean design must reach, and",
            "its title; the marks themselves follow the table.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  hmm4j list",
            "  hmm4j list --json",
            "  hmm4j explore S1-kvm-mmgrab    (explore one of them)"
        })
final class ListCommand implements Callable<Integer> {
    private static final List<String> HEADERS = List.of("scenario", "expected", "rule", "marks", "title");
    private static final List<Table.Align> ALIGNS = List.of(Table.Align.LEFT, Table.Align.LEFT, Table.Align.LEFT,
            Table.Align.RIGHT, Table.Align.LEFT);

    private final Supplier<List<Scenario>> catalogue;

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print the catalogue as JSON (for scripts and CI) instead of the table.")
    private boolean json;

    /** The command over {@link Catalogue#all()}. */
    ListCommand() {
        this(Catalogue::all);
    }

    /** The command over another catalogue (for tests). */
    ListCommand(Supplier<List<Scenario>> catalogue) {
        this.catalogue = Objects.requireNonNull(catalogue);
    }

    @Override
    public Integer call() {
        List<Scenario> all = catalogue.get();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.print(json(all));
            out.flush();
            return ExitCodes.CLEAN;
        }
        Table t = new Table(HEADERS, ALIGNS);
        for (Scenario s : all) {
            Expectation e = s.expectation();
            t.addRow(s.id(), e.label() + (e.isPending() ? " (pending: " + e.pending() + ")" : ""), e.ruleId(),
                    e.marks().isEmpty() ? "-" : String.valueOf(e.marks().size()), s.title());
        }
        out.print(t.render());
        List<Scenario> withMarks = all.stream().filter(s -> !s.expectation().marks().isEmpty()).toList();
        if (!withMarks.isEmpty()) {
            out.println();
            out.println("coverage marks a clean exploration must reach:");
            for (Scenario s : withMarks) {
                out.println("  " + s.id() + ": " + s.expectation().marks().stream().map(Mark::id)
                        .collect(Collectors.joining(", ")));
            }
        }
        long bad = all.stream().filter(s -> !s.expectation().expectsClean()).count();
        out.println();
        out.println(all.size() + " scenarios: " + (all.size() - bad) + " known-good, " + bad + " known-bad");
        out.flush();
        return ExitCodes.CLEAN;
    }

    /**
     * The catalogue as JSON: {@code {"scenarios": [{"id", "title", "expected", "rule",
     * "pending" (only when pending), "marks": [{"id", "statement"}]}]}}.
     */
    static String json(List<Scenario> all) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        ArrayNode scenarios = root.putArray("scenarios");
        for (Scenario s : all) {
            Expectation e = s.expectation();
            ObjectNode n = scenarios.addObject().put("id", s.id()).put("title", s.title())
                    .put("expected", e.label()).put("rule", e.ruleId());
            if (e.isPending()) {
                n.put("pending", e.pending());
            }
            ArrayNode marks = n.putArray("marks");
            e.marks().forEach(m -> marks.addObject().put("id", m.id()).put("statement", m.statement()));
        }
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
