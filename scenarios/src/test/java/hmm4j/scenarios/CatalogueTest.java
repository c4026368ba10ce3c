package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class CatalogueTest {

    static java.util.stream.Stream<Scenario> scenarios() {
        return Catalogue.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void everyScenario_meetsItsExpectation(Scenario s) {
        Budget budget = s.expectation().expectsClean() ? new Budget(300, 1, 100_000) : new Budget(1000, 1, 100_000);
        ScenarioOutcome o = ScenarioRunner.run(s, budget);
        assertTrue(o.asExpected(), () -> s.id() + ": expected " + s.expectation().label() + " but got " + o.actual()
                + o.firstFailure().map(r -> "\n" + hmm4j.sim.report.TextReport.render(r)).orElse(""));
        if (!s.expectation().expectsClean()) {
            assertTrue(o.runs() <= 1000);
        } else {
            assertEquals(300, o.runs());
        }
    }

    @Test
    void kvmMmgrab_isFoundBothBeforeAndAfterTheExit() {
        Scenario kvm = Catalogue.byId("S1-kvm-mmgrab").orElseThrow();
        Set<String> states = new HashSet<>();
        for (long seed = 1; seed <= 200 && states.size() < 2; seed++) {
            RunResult r = ScenarioRunner.runOnce(kvm, seed, 100_000);
            Failure.UnpinnedAddressSpaceUse f = assertInstanceOf(Failure.UnpinnedAddressSpaceUse.class,
                    r.firstFailure().orElseThrow(), "seed " + seed);
            assertEquals("kworker", f.site().task());
            states.add(f.mmState().startsWith("LIVE") ? "live" : "torn down");
        }
        assertEquals(Set.of("live", "torn down"), states,
                "the pin rule must fire while the mm is alive, and the access must also be caught after exit");
    }

    @Test
    void sameSeed_sameVerdictAndSchedule() {
        Scenario kvm = Catalogue.byId("S1-kvm-mmgrab").orElseThrow();
        RunResult a = ScenarioRunner.runOnce(kvm, 42, 100_000);
        RunResult b = ScenarioRunner.runOnce(kvm, 42, 100_000);
        assertEquals(a.decisions(), b.decisions());
        assertEquals(a.failures().get(0).headline(), b.failures().get(0).headline());
        assertFalse(a.clean());
    }
}
