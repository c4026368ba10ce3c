package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The f_fs AIO pair of S1 explored: the kernel's teardown order is clean over the catalogue
 * budget with every mark of its argument reached; the counterfactual order is found for rule
 * mm.pin at the copy worker's {@code copy_to_user}, while the address space is being torn
 * down or is gone.
 */
class FfsAioScenarioTest {

    @Test
    void kernelsOrder_isCleanOverTheCatalogueBudget_reachingEveryMark() {
        Scenario s = Catalogue.byId("S1-ffs-aio").orElseThrow();
        ScenarioOutcome o = ScenarioRunner.run(s, Budget.DEFAULT);
        assertEquals(1000, o.runs());
        assertTrue(o.firstFailure().isEmpty(), () -> o.actual());
        assertEquals(List.of(), o.missingMarks());
        assertTrue(o.asExpected());
    }

    @Test
    void mmapFirst_isFoundForThePinRuleWithin1000Runs() {
        Scenario s = Catalogue.byId("S1-ffs-aio-mmap-first").orElseThrow();
        ScenarioOutcome o = ScenarioRunner.run(s, Budget.DEFAULT);
        assertTrue(o.asExpected(), () -> o.actual());
        assertTrue(o.runs() <= 1000);
        assertEquals(SimRules.PIN, o.actualRule().orElseThrow());
    }

    @Test
    void mmapFirst_theWorkersCopyIsCaughtDuringAndAfterExitMmap() {
        Scenario s = Catalogue.byId("S1-ffs-aio-mmap-first").orElseThrow();
        Set<String> states = new HashSet<>();
        int found = 0;
        for (long seed = 1; seed <= 300; seed++) {
            RunResult r = ScenarioRunner.runOnce(s, seed, 100_000);
            if (r.clean()) {
                continue; // the cancel took the request back first: no copy, nothing to catch
            }
            found++;
            Failure.UnpinnedAddressSpaceUse f = assertInstanceOf(Failure.UnpinnedAddressSpaceUse.class,
                    r.firstFailure().orElseThrow(), "seed " + seed);
            assertTrue(f.site().task().startsWith("kworker/f_fs_io_completion"), f.site().task());
            assertTrue(Set.of("copy_to_user", "vma_lookup", "find_vma", "lock_vma_under_rcu").contains(f.operation().replaceAll("[ (].*", "")),
                    f.operation());
            states.add(f.mmState().replaceAll(",.*", ""));
        }
        assertTrue(found > 0);
        assertTrue(states.stream().allMatch(st -> st.startsWith("EXITING(")), states::toString);
        assertTrue(states.size() >= 2, "caught at more than one point of the teardown: " + states);
    }
}
