package hmm4j.cli;

import hmm4j.scenarios.Hmm2019Scenarios;
import hmm4j.scenarios.Scenario;
import hmm4j.scenarios.ScenarioOutcome;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code hmm4j check --series NAME}: the catalogue's patch series as one row per patch
 * (its id and title, the race it fixes, the verdict on the version before and after, and
 * whether both are as expected), after the usual table of the series' scenarios.
 */
final class SeriesView {
    private static final List<String> HEADERS = List.of("patch", "title", "race fixed", "before", "after", "verdict");
    private static final List<Table.Align> ALIGNS = List.of(Table.Align.LEFT, Table.Align.LEFT, Table.Align.LEFT,
            Table.Align.LEFT, Table.Align.LEFT, Table.Align.LEFT);

    private SeriesView() {
    }

    /** The series the command knows, by name. */
    static List<String> names() {
        return List.of(Hmm2019Scenarios.SERIES);
    }

    /** The ids of the scenarios of series {@code name}. */
    static Set<String> ids(String name) {
        return Hmm2019Scenarios.all().stream().map(Scenario::id).collect(Collectors.toSet());
    }

    /** The patch table over the outcomes of the series' scenarios (rows whose scenarios did not run are left out). */
    static Table table(List<ScenarioOutcome> outcomes) {
        Map<String, ScenarioOutcome> byId = new HashMap<>();
        for (ScenarioOutcome o : outcomes) {
            byId.put(o.scenario().id(), o);
        }
        Table t = new Table(HEADERS, ALIGNS);
        for (Hmm2019Scenarios.Row r : Hmm2019Scenarios.series()) {
            ScenarioOutcome before = byId.get(r.before().id());
            ScenarioOutcome after = byId.get(r.after().id());
            if (before == null || after == null) {
                continue;
            }
            t.addRow(r.id(), r.title(), r.race(), verdict(before), verdict(after),
                    before.asExpected() && after.asExpected() ? "ok" : "MISMATCH");
        }
        return t;
    }

    /** {@code v5.2: found hmm2019.null-hmm} or {@code v5.3: clean}. */
    private static String verdict(ScenarioOutcome o) {
        String id = o.scenario().id();
        String version = id.substring(id.lastIndexOf('-') + 1);
        if (o.scenario().expectation().isPending()) {
            return version + ": pending (expected " + o.scenario().expectation().ruleId() + ")";
        }
        String actual = o.actualRuleId();
        return version + ": " + ("clean".equals(actual) ? "clean" : "found " + actual);
    }
}
