package hmm4j.sim.rule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.failure.Site;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuleTest {
    private static final Rule MINE = Rule.own("mydrv.no-stale-entry", FailureKind.INVARIANT_VIOLATION,
            "the device table holds no entry an invalidation has passed");

    @Test
    void kernelAndOwnRules_sayWhatTheyFollow() {
        assertEquals("kernel/locking/lockdep.c: check_noncircular", SimRules.LOCK_ORDER.follows());
        assertFalse(SimRules.LOCK_ORDER.isOwn());
        assertEquals(Rule.OWN, MINE.follows());
        assertTrue(MINE.isOwn());
    }

    @Test
    void badIdsAndStatements_areRejected() {
        assertThrows(IllegalArgumentException.class, () -> Rule.own("nodot", FailureKind.DEADLOCK, "x"));
        assertThrows(IllegalArgumentException.class, () -> Rule.own("Upper.case", FailureKind.DEADLOCK, "x"));
        assertThrows(IllegalArgumentException.class, () -> Rule.own("a.b", FailureKind.DEADLOCK, "two\nlines"));
        assertThrows(IllegalArgumentException.class,
                () -> new Rule("a.b", FailureKind.DEADLOCK, "x", "mm/hmm.c", null));
    }

    @Test
    void catalogue_rejectsADuplicateId_andFindsById() {
        RuleSet mine = new RuleSet("my driver", "its rules", List.of(MINE));
        RuleCatalogue c = RuleCatalogue.of(SimRules.SET).with(mine);
        assertEquals(MINE, c.find("mydrv.no-stale-entry").orElseThrow());
        assertTrue(c.contains(SimRules.PIN));
        assertTrue(c.find("mydrv.absent").isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.with(mine));
        assertTrue(e.getMessage().contains("mydrv.no-stale-entry"), e.getMessage());
    }

    @Test
    void everyFailureNamesARuleOfItsKind() {
        Site s = new Site("t", 1, List.of());
        List<Failure> all = List.of(
                new Failure.UseAfterFree("o", "read", s, s, s),
                new Failure.UnpinnedAddressSpaceUse("mm", "find_vma", "dead", "none", s),
                new Failure.RefcountError("r", Failure.RefcountProblem.UNDERFLOW, "d", s),
                new Failure.LockOrderCycle("B", "A", List.of(), List.of(), s),
                new Failure.LockOrderCycle("A", "A", List.of(), List.of(), s),
                new Failure.SleepInAtomic("msleep", "spinlock", s),
                new Failure.Deadlock(List.of(), s),
                new Failure.StepBoundExceeded("steps", 1, "d", s),
                new Failure.InvariantViolation(MINE, "d", s),
                new Failure.UnexpectedException("E", null, List.of(), s));
        for (Failure f : all) {
            assertEquals(f.kind(), f.rule().kind(), f.toString());
            assertTrue(RuleCatalogue.of(SimRules.SET).contains(f.rule()) || f.rule().equals(MINE), f.toString());
        }
        assertEquals(SimRules.RECURSIVE_LOCKING, all.get(4).rule());
        assertEquals(SimRules.LOCK_ORDER, all.get(3).rule());
        assertEquals("invariant violated: the device table holds no entry an invalidation has passed",
                all.get(8).headline());
    }

    @Test
    void aRuleOfAnotherKind_isRejected() {
        Site s = new Site("t", 1, List.of());
        assertThrows(IllegalArgumentException.class, () -> new Failure.InvariantViolation(SimRules.PIN, "d", s));
        assertThrows(IllegalArgumentException.class,
                () -> new Failure.UseAfterFree("o", "read", s, s, s, SimRules.REFERENCE_LEAK));
    }
}
