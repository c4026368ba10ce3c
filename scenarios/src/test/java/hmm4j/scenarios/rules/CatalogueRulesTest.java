package hmm4j.scenarios.rules;

import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import org.junit.jupiter.api.Test;

/** Every catalogue scenario that expects a failure names a rule of the catalogue. */
class CatalogueRulesTest {

    @Test
    void everyKnownBadScenario_namesACatalogueRule() {
        for (Scenario s : Catalogue.all()) {
            if (s.expectation().expectsClean()) {
                continue;
            }
            assertTrue(Rules.catalogue().contains(s.expectation().finds()), s.id() + " expects "
                    + s.expectation().finds() + ", which is not in the catalogue");
        }
    }
}
