package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.rule.SimRules;
import org.junit.jupiter.api.Test;

/** The declared strategy misses of an expectation: what is accepted and what is refused. */
class ExpectationTest {

    @Test
    void missedBy_isKeptByCanonicalStrategyText() {
        Expectation e = Expectation.finds(SimRules.PIN).missedBy("dfs", "bounded DFS reason")
                .missedBy("pos", SimRules.USE_AFTER_FREE_RULE, "other bug first");
        assertEquals("bounded DFS reason", e.missOf("dfs:2").orElseThrow().reason());
        assertEquals(SimRules.USE_AFTER_FREE_RULE, e.missOf("pos").orElseThrow().instead());
        assertTrue(e.missOf("random").isEmpty());
        assertEquals(2, e.missedBy().size());
    }

    @Test
    void missedBy_refusesTheDefaultACleanDesignADuplicateAndTheExpectedRule() {
        Expectation bad = Expectation.finds(SimRules.PIN);
        assertThrows(IllegalArgumentException.class, () -> bad.missedBy("portfolio", "no"));
        assertThrows(IllegalArgumentException.class, () -> Expectation.clean().missedBy("dfs:2", "no"));
        assertThrows(IllegalArgumentException.class, () -> bad.missedBy("dfs:2", "a").missedBy("dfs:2", "b"));
        assertThrows(IllegalArgumentException.class, () -> bad.missedBy("dfs:2", SimRules.PIN, "same rule"));
        assertThrows(IllegalArgumentException.class, () -> bad.missedBy("no-such-strategy", "x"));
    }

    @Test
    void pendingAndMarks_keepTheMisses() {
        Expectation e = Expectation.finds(SimRules.PIN).missedBy("dfs:2", "r").pendingBecause("later");
        assertTrue(e.isPending());
        assertEquals("r", e.missOf("dfs:2").orElseThrow().reason());
    }
}
