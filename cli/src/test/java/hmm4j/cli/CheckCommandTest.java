package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.MarkCoverage;
import hmm4j.scenarios.Budget;
import hmm4j.scenarios.Expectation;
import hmm4j.scenarios.Scenario;
import hmm4j.scenarios.ScenarioOutcome;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.failure.Site;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.SimRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CheckCommandTest {

    /** A scenario that is never set up: the fake runner decides its outcome. */
    record FakeScenario(String id, Expectation expectation, boolean fails) implements Scenario {
        @Override
        public String title() {
            return "fake " + id;
        }

        @Override
        public void setUp(Kernel kernel) {
            throw new AssertionError("the fake runner never sets up a scenario");
        }
    }

    private final List<Budget> budgets = new ArrayList<>();

    /** Fails on the third run after 1.25 ms when the scenario says so, else runs the whole budget. */
    private ScenarioOutcome fakeRun(Scenario s, Budget b) {
        budgets.add(b);
        FakeScenario f = (FakeScenario) s;
        if (f.expectation().isPending()) {
            return new ScenarioOutcome(s, 0, Optional.empty(), -1, 0);
        }
        if (!f.fails()) {
            return new ScenarioOutcome(s, b.runs(), Optional.empty(), -1, 5_000_000, new MarkCoverage(List.of(
                    new MarkCoverage.Reached(REACHED_A, b.runs(), 0), new MarkCoverage.Reached(REACHED_B, 3, 17))));
        }
        Site site = new Site("worker", 7, List.of("Fake.run(Fake.java:1)"));
        RunResult r = new RunResult(b.firstSeed() + 2, "random-walk(seed=" + (b.firstSeed() + 2) + ")",
                List.of(new Failure.Deadlock(List.of("worker blocked on mutex_lock(a)"), site)), 7, 0,
                List.of(), List.of(), Optional.empty(), List.of("worker"));
        return new ScenarioOutcome(s, 3, Optional.of(r), 1_250_000, 1_250_000);
    }

    private Console console(List<Scenario> catalogue) {
        return Console.with(Map.of(), new CheckCommand(() -> catalogue, this::fakeRun));
    }

    private static final Scenario GOOD = new FakeScenario("S1-good", Expectation.clean(), false);
    private static final Scenario BAD = new FakeScenario("S2-bad", Expectation.finds(SimRules.DEADLOCK_FREE), true);
    private static final Scenario PENDING = new FakeScenario("S3-later",
            Expectation.clean().pendingBecause("needs notifiers"), false);
    private static final Scenario WRONG = new FakeScenario("S4-wrong", Expectation.clean(), true);
    /** Expects a deadlock of another rule than the one the fake run reports: same kind, wrong rule. */
    private static final Scenario WRONG_RULE = new FakeScenario("S5-wrong-rule", Expectation.finds(
            Rule.own("test.other-deadlock", FailureKind.DEADLOCK, "a deadlock of another rule")), true);
    private static final Mark REACHED_A = Mark.of("test.check.reached-a", "the fake runner reaches it every run");
    private static final Mark REACHED_B = Mark.of("test.check.reached-b", "the fake runner reaches it in 3 runs");
    private static final Mark UNREACHED = Mark.of("test.check.unreached", "the fake runner never reaches it");
    private static final Scenario COVERED = new FakeScenario("S5-covered",
            Expectation.clean().reaching(REACHED_A, REACHED_B), false);
    private static final Scenario BLIND = new FakeScenario("S6-blind",
            Expectation.clean().reaching(REACHED_A, UNREACHED), false);

    @Test
    void runsZero_isRejectedInOneLineWithExit2() {
        Console c = Console.real().run("check", "--runs", "0");
        assertEquals(2, c.exitCode());
        assertEquals(List.of("hmm4j: --runs must be at least 1 (got 0) (see 'hmm4j check --help')"),
                c.errLines());
        assertEquals("", c.out());
    }

    @Test
    void maxStepsNegative_isRejectedWithExit2() {
        Console c = console(List.of(GOOD)).run("check", "--max-steps", "-5");
        assertEquals(2, c.exitCode());
        assertEquals(List.of("hmm4j: --max-steps must be at least 1 (got -5) (see 'hmm4j check --help')"),
                c.errLines(), "the option's name, not the budget's internal 'maxSteps must be positive'");
        assertTrue(budgets.isEmpty(), "nothing may run with a bad budget");
    }

    @Test
    void unknownScenario_isRejectedInOneLineWithExit2() {
        Console c = Console.real().run("check", "--only", "NOPE");
        assertEquals(2, c.exitCode());
        assertEquals(1, c.errLines().size(), c.err());
        assertTrue(c.err().startsWith("hmm4j: Unknown scenario: 'NOPE' (known: "), c.err());
        assertEquals("", c.out());
    }

    @Test
    void allAsExpected_printsTableAndSummaryAndExits0() {
        Console c = console(List.of(GOOD, BAD, PENDING)).run("check", "--runs", "40", "--seed", "9");
        assertEquals(0, c.exitCode(), c.err());
        assertEquals("""
                scenario  expected         actual                     runs  time to first failure  verdict
                --------  ---------------  -------------------------  ----  ---------------------  -------
                S1-good   clean            clean                        40                      -  ok
                S2-bad    run.no-deadlock  run.no-deadlock               3                 1.3 ms  ok
                S3-later  clean            pending (needs notifiers)     -                      -  ok

                3 scenarios, 3 as expected (1 pending)
                """, c.out());
        assertEquals("", c.err());
        assertEquals(new Budget(40, 9, Budget.DEFAULT.maxSteps()), budgets.get(0));
    }

    @Test
    void json_printsOneEntryPerScenario_withTheFailureAndTheVerdicts() throws Exception {
        Console c = console(List.of(GOOD, BAD)).run("check", "--runs", "40", "--json");
        assertEquals(0, c.exitCode(), c.err());
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(c.out());
        var scenarios = root.get("scenarios");
        assertEquals(2, scenarios.size());
        assertEquals("S1-good", scenarios.get(0).get("id").asText());
        assertEquals("clean", scenarios.get(0).get("actual").asText());
        assertEquals(40, scenarios.get(0).get("runs").asLong());
        assertEquals(0, scenarios.get(0).get("failures").size());
        assertEquals("deadlock", scenarios.get(1).get("actual").asText());
        assertTrue(scenarios.get(1).get("asExpected").asBoolean());
        assertEquals("DEADLOCK", scenarios.get(1).get("failures").get(0).get("kind").asText());
        assertEquals("run.no-deadlock", scenarios.get(1).get("expectedRule").asText());
        assertEquals("run.no-deadlock", scenarios.get(1).get("actualRule").asText());
        assertEquals("run.no-deadlock", scenarios.get(1).get("failures").get(0).get("rule").asText());
    }

    @Test
    void mismatch_isMarkedAndExits1() {
        Console c = console(List.of(GOOD, WRONG)).run("check");
        assertEquals(1, c.exitCode());
        List<String> lines = c.out().lines().toList();
        assertTrue(lines.get(3).startsWith("S4-wrong  clean     run.no-deadlock"), c.out());
        assertTrue(lines.get(3).endsWith("MISMATCH"), c.out());
        assertTrue(c.out().contains("2 scenarios, 1 as expected\n"), c.out());
        assertTrue(c.out().contains("hmm4j check --report --only S4-wrong"), c.out());
        assertEquals(Budget.DEFAULT, budgets.get(0));
    }

    @Test
    void aFailureOfTheExpectedKindButAnotherRule_isAMismatch() {
        Console c = console(List.of(WRONG_RULE)).run("check");
        assertEquals(1, c.exitCode());
        List<String> lines = c.out().lines().toList();
        assertEquals("S5-wrong-rule  test.other-deadlock  run.no-deadlock     3                 1.3 ms  MISMATCH",
                lines.get(2), c.out());
        assertTrue(c.out().contains("1 scenario, 0 as expected\n"), c.out());
    }

    @Test
    void only_runsTheNamedScenariosInCatalogueOrder() {
        Console c = console(List.of(GOOD, BAD, WRONG)).run("check", "--only", "S4-wrong,S1-good");
        assertEquals(1, c.exitCode());
        assertEquals(2, budgets.size());
        List<String> rows = c.out().lines().skip(2).limit(2).toList();
        assertTrue(rows.get(0).startsWith("S1-good"), c.out());
        assertTrue(rows.get(1).startsWith("S4-wrong"), c.out());
        assertFalse(c.out().contains("S2-bad"), c.out());
    }

    @Test
    void report_printsTheTextReportOfEveryFailingRun() {
        Console c = console(List.of(GOOD, BAD)).run("check", "--report");
        assertEquals(0, c.exitCode());
        assertTrue(c.out().contains("== S2-bad: fake S2-bad\nFAIL deadlock: no task can run, 1 blocked\n"), c.out());
        assertTrue(c.out().contains("seed 3 · random-walk(seed=3)"), c.out());
        assertTrue(c.out().contains("worker blocked on mutex_lock(a)"), c.out());
        assertFalse(c.out().contains("== S1-good"), c.out());
        assertTrue(c.out().endsWith("2 scenarios, 2 as expected\n"), c.out());
    }

    @Test
    void cleanDesignWithMarks_showsTheMarksReached_andIsOkWhenAllAre() {
        Console c = console(List.of(COVERED, BAD)).run("check", "--runs", "40");
        assertEquals(0, c.exitCode(), c.out());
        List<String> lines = c.out().lines().toList();
        assertTrue(lines.get(2).matches("S5-covered +clean +clean \\(2/2 marks\\) +40 +- +ok"), c.out());
        assertFalse(c.out().contains("not reached"), c.out());
    }

    @Test
    void cleanDesignMissingAListedMark_isAMismatch_namingTheMark_exit1() {
        Console c = console(List.of(COVERED, BLIND)).run("check", "--runs", "40");
        assertEquals(1, c.exitCode());
        List<String> lines = c.out().lines().toList();
        assertTrue(lines.get(3).matches("S6-blind +clean +clean \\(1/2 marks\\) +40 +- +MISMATCH"), c.out());
        assertTrue(c.out().contains("\nS6-blind: marks not reached: test.check.unreached\n"), c.out());
        assertTrue(c.out().contains("2 scenarios, 1 as expected\n"), c.out());
    }

    @Test
    void json_listsTheMarksExpectedReachedAndMissing() throws Exception {
        Console c = console(List.of(GOOD, BLIND)).run("check", "--json");
        assertEquals(1, c.exitCode());
        var scenarios = new com.fasterxml.jackson.databind.ObjectMapper().readTree(c.out()).get("scenarios");
        assertFalse(scenarios.get(0).has("marks"), "a design that lists no marks has no marks entry");
        var marks = scenarios.get(1).get("marks");
        assertFalse(scenarios.get(1).get("asExpected").asBoolean());
        assertEquals("clean", scenarios.get(1).get("actual").asText());
        assertEquals("[\"test.check.reached-a\",\"test.check.unreached\"]", marks.get("expected").toString());
        assertEquals("[\"test.check.reached-a\",\"test.check.reached-b\"]", marks.get("reached").toString());
        assertEquals("[\"test.check.unreached\"]", marks.get("missing").toString());
    }

    @Test
    void everySelectedScenarioPending_nothingRan_exit4() {
        Console c = console(List.of(GOOD, PENDING)).run("check", "--only", "S3-later");
        assertEquals(4, c.exitCode(), c.out());
        assertTrue(c.out().contains("nothing ran: every selected scenario is pending (exit 4)"), c.out());
        Console json = console(List.of(PENDING)).run("check", "--json");
        assertEquals(4, json.exitCode(), json.out());
    }

    @Test
    void json_recordsTheVersionOptionsAndSeeds() throws Exception {
        Console c = console(List.of(GOOD, BAD)).run("check", "--runs", "40", "--seed", "9", "--max-steps", "500",
                "--strategy", "pct:2", "--only", "S1-good,S2-bad", "--json");
        assertEquals(0, c.exitCode(), c.err());
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(c.out());
        var header = root.get("hmm4j");
        assertEquals(VersionProvider.version(), header.get("version").asText());
        var options = header.get("options");
        assertEquals(40, options.get("runs").asInt());
        assertEquals(9, options.get("seed").asLong());
        assertEquals(500, options.get("maxSteps").asLong());
        assertEquals("pct:2", options.get("strategy").asText());
        assertEquals("[\"S1-good\",\"S2-bad\"]", options.get("only").toString());
        assertEquals(9, header.get("firstSeed").asLong());
        var good = root.get("scenarios").get(0).get("seeds");
        assertEquals(9, good.get("first").asLong());
        assertEquals(48, good.get("last").asLong(), "40 runs from seed 9");
        assertEquals(11, root.get("scenarios").get(1).get("seeds").get("last").asLong(), "stopped at run 3");
    }

    @Test
    void reportWithJson_refusedInOneLine_exit2() {
        Console c = console(List.of(GOOD)).run("check", "--json", "--report");
        assertEquals(2, c.exitCode());
        assertEquals(1, c.errLines().size(), c.err());
        assertTrue(c.err().startsWith("hmm4j: --report prints text reports and --json a JSON document: give one"),
                c.err());
        assertEquals("", c.out());
        assertTrue(budgets.isEmpty(), "refused before running");
    }

    @Test
    void dfs_saysPerScenarioThatTheSpaceWasExhausted() throws Exception {
        Console c = Console.real().run("check", "--only", "S1-vhost,S3b-register-last", "--strategy", "dfs:1",
                "--runs", "100000");
        assertEquals(0, c.exitCode(), c.out() + c.err());
        List<String> lines = c.out().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("S1-vhost: space exhausted at bound 1 \\(\\d+ schedules\\)")),
                c.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches(
                "S3b-register-last: space exhausted at bound 1 \\(\\d+ schedules\\)")), c.out());
        Console json = Console.real().run("check", "--only", "S1-vhost", "--strategy", "dfs:1", "--runs", "100000",
                "--json");
        var entry = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out()).get("scenarios").get(0);
        assertEquals(1, entry.get("exhaustedAtBound").asInt(), json.out());
        Console random = Console.real().run("check", "--only", "S1-vhost", "--runs", "50");
        assertFalse(random.out().contains("exhausted"), random.out());
    }

    @Test
    void millis_hasOneDecimal() {
        assertEquals("0.0 ms", CheckCommand.millis(0));
        assertEquals("1.3 ms", CheckCommand.millis(1_250_001));
        assertEquals("1234.5 ms", CheckCommand.millis(1_234_500_000));
    }
}
