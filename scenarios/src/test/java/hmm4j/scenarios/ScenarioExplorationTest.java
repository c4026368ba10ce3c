package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.ExplorationResult;
import hmm4j.explore.Explorer;
import hmm4j.explore.FoundFailure;
import hmm4j.explore.ReplayResult;
import hmm4j.explore.strategy.StrategySpec;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The catalogue explored with the explorer: every strategy, determinism, replay. */
class ScenarioExplorationTest {

    static Stream<Arguments> strategiesAndKnownBadScenarios() {
        return Stream.of("random", "pct:3", "pos", "dfs:2").flatMap(s -> Catalogue.all().stream()
                .filter(c -> !c.expectation().expectsClean() && !c.expectation().isPending())
                .map(c -> Arguments.of(s, c.id())));
    }

    @ParameterizedTest(name = "{0} finds {1} within 1000 runs")
    @MethodSource("strategiesAndKnownBadScenarios")
    void everyStrategy_findsEveryKnownBadDesign(String strategy, String id) {
        Scenario s = Catalogue.byId(id).orElseThrow();
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(1000, 1, 100_000, StrategySpec.parse(strategy)));
        assertTrue(o.asExpected(), id + " with " + strategy + ": " + o.actual());
        assertTrue(o.runs() <= 1000);
    }

    @Test
    void runner_usesThePortfolioByDefault() {
        assertEquals(StrategySpec.PORTFOLIO, Budget.DEFAULT.strategy());
        assertEquals(StrategySpec.PORTFOLIO, new Budget(10, 1, 100).strategy());
        ScenarioOutcome o = ScenarioRunner.run(Catalogue.byId("S1-kvm-mmgrab").orElseThrow(), Budget.DEFAULT);
        String strategy = o.firstFailure().orElseThrow().strategy();
        assertTrue(strategy.startsWith("pct(depth=3"), "run 0 of the portfolio is PCT depth 3: " + strategy);
    }

    @Test
    void exploration_isTheSameForAnyWorkerCount() {
        Scenario s = Catalogue.byId("S3b-kfd-unwind").orElseThrow();
        var options = ScenarioRunner.options(Budget.DEFAULT);
        FoundFailure one = ScenarioRunner.explore(s, options.withWorkers(1)).failure().orElseThrow();
        FoundFailure two = ScenarioRunner.explore(s, options.withWorkers(2)).failure().orElseThrow();
        assertEquals(List.of(one.runIndex(), one.seed(), one.strategy(), one.headline()),
                List.of(two.runIndex(), two.seed(), two.strategy(), two.headline()));
        assertEquals(one.run().decisions(), two.run().decisions());
        assertEquals(one.run().trace(), two.run().trace());
    }

    @Test
    void failureFileOfAScenario_replaysExactly(@TempDir Path dir) {
        Scenario s = Catalogue.byId("S4-find").orElseThrow();
        ExplorationResult r = ScenarioRunner.explore(s, ScenarioRunner.options(Budget.DEFAULT).withOutDir(dir));
        FoundFailure f = r.failure().orElseThrow();
        ReplayResult replay = Explorer.replay(f.file().orElseThrow(), ScenarioRunner.target(s));
        assertTrue(replay.reproduced(), replay.verdictLine());
        assertEquals(f.run().trace(), replay.run().trace());
    }
}
