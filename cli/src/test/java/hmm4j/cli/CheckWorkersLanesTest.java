package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.ExploreOptions;
import hmm4j.scenarios.Budget;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.ScenarioRunner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code hmm4j check --workers N --lanes N}: the same meaning and checks as for {@code explore}. */
class CheckWorkersLanesTest {
    private final List<Budget> budgets = new ArrayList<>();

    /** The real catalogue and runner, recording the budgets the command passes. */
    private Console console() {
        return Console.with(Map.of(), new CheckCommand(Catalogue::all, (s, b) -> {
            budgets.add(b);
            return ScenarioRunner.run(s, b);
        }));
    }

    @Test
    void workersAndLanes_reachTheExplorer_andTheVerdictsHold() {
        Console c = console().run("check", "--only", "S1-kvm-mmgrab,S1-vhost", "--runs", "200", "--workers", "2",
                "--lanes", "4");
        assertEquals(0, c.exitCode(), c.out() + c.err());
        assertTrue(c.out().contains("2 scenarios, 2 as expected"), c.out());
        assertEquals(2, budgets.size());
        for (Budget b : budgets) {
            assertEquals(2, b.workers());
            assertEquals(4, b.lanes());
            ExploreOptions o = ScenarioRunner.options(b);
            assertEquals(2, o.workers());
            assertEquals(4, o.lanes());
        }
    }

    @Test
    void byDefault_onePerProcessor_andTheExplorersLanes() {
        Console c = console().run("check", "--only", "S1-vhost", "--runs", "20");
        assertEquals(0, c.exitCode(), c.out() + c.err());
        assertEquals(0, budgets.get(0).workers());
        assertEquals(ExploreOptions.DEFAULT_LANES, budgets.get(0).lanes());
        assertEquals(Runtime.getRuntime().availableProcessors(), ScenarioRunner.options(budgets.get(0)).workers());
    }

    @Test
    void badWorkersOrLanes_areRejectedInOneLine_beforeAnyRun() {
        Console workers = console().run("check", "--workers", "0");
        assertEquals(2, workers.exitCode());
        assertEquals(List.of("hmm4j: --workers must be at least 1 (got 0) (see 'hmm4j check --help')"),
                workers.errLines());
        Console lanes = console().run("check", "--lanes", "0");
        assertEquals(2, lanes.exitCode());
        assertEquals(List.of("hmm4j: --lanes must be at least 1 (got 0) (see 'hmm4j check --help')"),
                lanes.errLines());
        Console text = console().run("check", "--lanes", "many");
        assertEquals(2, text.exitCode());
        assertEquals(1, text.errLines().size(), text.err());
        assertTrue(budgets.isEmpty(), "nothing may run with a bad budget");
    }
}
