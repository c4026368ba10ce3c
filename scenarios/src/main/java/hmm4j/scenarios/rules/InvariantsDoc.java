package hmm4j.scenarios.rules;

import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.RuleCatalogue;
import hmm4j.sim.rule.RuleSet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Generates {@code docs/invariants.md} from the {@link Rules#catalogue() rule catalogue}: one
 * section per rule set, one table row per rule (id, statement, failure kind, what it follows).
 * The output depends only on the catalogue, so a test can compare it with the committed file.
 *
 * <p>Run: {@code java -cp cli/target/hmm4j.jar hmm4j.scenarios.rules.InvariantsDoc docs/invariants.md}
 * (without an argument it prints to standard output).
 */
public final class InvariantsDoc {
    private InvariantsDoc() {
    }

    /** Writes the document to the path given as the only argument, or prints it. */
    public static void main(String[] args) throws IOException {
        String doc = render(Rules.catalogue());
        if (args.length == 0) {
            System.out.print(doc);
        } else {
            Files.writeString(Path.of(args[0]), doc, StandardCharsets.UTF_8);
        }
    }

    /** The Markdown text of {@code catalogue}. */
    public static String render(RuleCatalogue catalogue) {
        StringBuilder b = new StringBuilder();
        b.append("# Rules hmm4j enforces\n\n");
        b.append("<!-- Generated from the rule catalogue (hmm4j.scenarios.rules.Rules) by\n");
        b.append("     hmm4j.scenarios.rules.InvariantsDoc; do not edit. InvariantsDocTest fails when\n");
        b.append("     this file and the catalogue differ and says how to regenerate it. -->\n\n");
        b.append("Every failure a run reports names one of these rules (`Failure.rule()`), a known-bad\n");
        b.append("scenario names the rule it must be caught by (`Expectation.finds(rule)`), and code cites\n");
        b.append("a rule as `rule <id>` in a comment. A rule follows a kernel source file and function, or\n");
        b.append("is hmm4j's own (a property of the model, the test device or a scenario). ");
        b.append(catalogue.rules().size()).append(" rules in ").append(catalogue.sets().size()).append(" sets.\n");
        for (RuleSet s : catalogue.sets()) {
            b.append("\n## ").append(s.name()).append("\n\n");
            b.append(s.description()).append("\n\n");
            b.append("| rule | statement | failure | follows |\n");
            b.append("|---|---|---|---|\n");
            for (Rule r : s.rules()) {
                b.append("| `").append(r.id()).append("` | ").append(cell(r.statement())).append(" | ")
                        .append(r.kind().label()).append(" | ")
                        .append(r.isOwn() ? Rule.OWN : "`" + r.file() + "`: `" + r.function() + "`").append(" |\n");
            }
        }
        return b.toString();
    }

    private static String cell(String s) {
        return s.replace("|", "\\|");
    }
}
