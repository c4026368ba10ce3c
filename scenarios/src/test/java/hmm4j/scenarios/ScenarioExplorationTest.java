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

    private static final List<String> STRATEGIES = List.of("random", "pct:3", "pos", "dfs:2");

    /** Every known-bad scenario with every strategy it does not declare as missing it. */
    static Stream<Arguments> strategiesAndKnownBadScenarios() {
        return STRATEGIES.stream().flatMap(s -> Catalogue.all().stream()
                .filter(c -> !c.expectation().expectsClean() && !c.expectation().isPending())
                .filter(c -> c.expectation().missOf(s).isEmpty())
                .map(c -> Arguments.of(s, c.id())));
    }

    /** Every strategy a known-bad scenario declares as missing it. */
    static Stream<Arguments> declaredMisses() {
        return Catalogue.all().stream().filter(c -> !c.expectation().isPending())
                .flatMap(c -> c.expectation().missedBy().keySet().stream().map(s -> Arguments.of(s, c.id())));
    }

    @ParameterizedTest(name = "{0} finds {1} within 1000 runs")
    @MethodSource("strategiesAndKnownBadScenarios")
    void everyStrategy_findsEveryKnownBadDesign(String strategy, String id) {
        Scenario s = Catalogue.byId(id).orElseThrow();
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(1000, 1, 100_000, StrategySpec.parse(strategy)));
        assertTrue(o.asExpected(), id + " with " + strategy + ": " + o.actual());
        assertTrue(o.runs() <= 1000);
    }

    /**
     * A declared miss is checked, not trusted: the strategy is one the test runs, and within
     * the same budget it finds no failure at all, or first finds exactly the other rule declared.
     * The default strategy is never excused (the catalogue test runs every scenario with it).
     */
    @ParameterizedTest(name = "{0} misses {1} as declared")
    @MethodSource("declaredMisses")
    void declaredMiss_isReal(String strategy, String id) {
        Scenario s = Catalogue.byId(id).orElseThrow();
        Expectation.Miss miss = s.expectation().missOf(strategy).orElseThrow();
        assertTrue(STRATEGIES.contains(strategy), id + " excuses a strategy the test does not run: " + strategy);
        ScenarioOutcome o = ScenarioRunner.run(s, new Budget(1000, 1, 100_000, StrategySpec.parse(strategy)));
        String expected = miss.instead() == null ? "clean" : miss.instead().id();
        assertEquals(expected, o.actualRuleId(), id + " with " + strategy + " (declared: " + miss.reason() + ")");
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
