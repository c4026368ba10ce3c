package hmm4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.FoundFailure;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/** Each bad fixture is found for its failure; each fixed one explores clean; the assertions can fail. */
class FixturesTest {
    @TempDir
    Path out;

    private ExploreOptions budget(int runs) {
        return ExploreOptions.defaults().withRuns(runs).withOutDir(out).withMinimise(false);
    }

    @Test
    void abBa_isFoundAsALockOrderCycle() {
        FoundFailure f = ExploreAssertions.assertFinds(Fixtures.abBa(), budget(200), FailureKind.LOCK_ORDER_CYCLE);
        Failure.LockOrderCycle cycle = (Failure.LockOrderCycle) f.failure().orElseThrow();
        assertTrue(cycle.held().equals("A") || cycle.held().equals("B"), cycle::headline);
    }

    @Test
    void lostUpdate_isFoundAtTheEndOfARun() {
        FoundFailure f = ExploreAssertions.assertFinds(Fixtures.lostUpdate(), budget(200), FailureKind.INVARIANT_VIOLATION);
        assertEquals(Fixtures.NO_LOST_UPDATE, f.failure().orElseThrow().rule(), f::headline);
    }

    @Test
    void useAfterFreeProbe_isFoundWithItsSites() {
        FoundFailure f = ExploreAssertions.assertFinds(Fixtures.useAfterFreeProbe(), budget(200), FailureKind.USE_AFTER_FREE);
        Failure.UseAfterFree uaf = (Failure.UseAfterFree) f.failure().orElseThrow();
        assertEquals("probe#1", uaf.object());
        assertEquals("teardown", uaf.freed().task());
        assertEquals("device", uaf.site().task());
    }

    @Test
    void fixedFixtures_exploreClean() {
        for (var target : java.util.List.of(Fixtures.sameOrder(), Fixtures.lockedUpdate(), Fixtures.joinedProbe())) {
            ExplorationResult r = ExploreAssertions.assertExploresClean(target, budget(300));
            assertEquals(300, r.runsDone(), target.name());
        }
    }

    @Test
    void assertFinds_failsOnACleanTarget_andAssertExploresClean_onABadOne() {
        assertThrows(AssertionFailedError.class,
                () -> ExploreAssertions.assertFinds(Fixtures.lockedUpdate(), budget(50), FailureKind.INVARIANT_VIOLATION));
        assertThrows(AssertionFailedError.class,
                () -> ExploreAssertions.assertExploresClean(Fixtures.abBa(), budget(50)));
        assertThrows(AssertionFailedError.class,
                () -> ExploreAssertions.assertFinds(Fixtures.abBa(), budget(50), FailureKind.DEADLOCK));
        Rule otherRuleOfTheSameKind = Rule.own("fixture.other", FailureKind.INVARIANT_VIOLATION, "another rule");
        assertThrows(AssertionFailedError.class,
                () -> ExploreAssertions.assertFinds(Fixtures.lostUpdate(), budget(200), otherRuleOfTheSameKind));
        ExploreAssertions.assertFinds(Fixtures.lostUpdate(), budget(200), Fixtures.NO_LOST_UPDATE);
    }
}
