package hmm4j.scenarios.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.CheckRules;
import hmm4j.drivers.dmirror.DmirrorRules;
import hmm4j.kernel.KernelRules;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.RuleSet;
import hmm4j.sim.rule.SimRules;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/invariants.md is what the catalogue generates, and the catalogue holds every declared rule. */
class InvariantsDocTest {
    private static final String REGENERATE = "regenerate it with: mvn -B -q -DskipTests package && "
            + "java -cp cli/target/hmm4j.jar hmm4j.scenarios.rules.InvariantsDoc docs/invariants.md "
            + "(or run this test with -Dhmm4j.updateGolden=true)";

    @Test
    void theCommittedDocument_isWhatTheCatalogueGenerates() throws IOException {
        Path doc = Citations.repositoryRoot().resolve("docs/invariants.md");
        String generated = InvariantsDoc.render(Rules.catalogue());
        if (Boolean.getBoolean("hmm4j.updateGolden")) {
            Files.writeString(doc, generated, StandardCharsets.UTF_8);
        }
        assertTrue(Files.isRegularFile(doc), "docs/invariants.md is missing; " + REGENERATE);
        String committed = Files.readString(doc, StandardCharsets.UTF_8);
        assertTrue(committed.equals(generated), "docs/invariants.md differs from the rule catalogue; " + REGENERATE);
    }

    @Test
    void theDocument_listsEveryRuleWithWhatItFollows() {
        String doc = InvariantsDoc.render(Rules.catalogue());
        for (Rule r : Rules.catalogue().rules()) {
            assertTrue(doc.contains("| `" + r.id() + "` | "), r.id());
        }
        assertTrue(doc.contains("| `mm.pin` | "), doc);
        assertTrue(doc.contains("`kernel/locking/lockdep.c`: `check_noncircular`"), doc);
        assertTrue(doc.contains("| `dmirror.no-stale-entry` | no stale device entry"), doc);
    }

    @Test
    void everyRuleConstantOfALayer_isInItsSet() throws IllegalAccessException {
        List<Class<?>> layers = List.of(SimRules.class, CheckRules.class, KernelRules.class,
                hmm4j.kernel.mm.hmm2019.Hmm2019Rules.class, DmirrorRules.class, ScenarioRules.class);
        int constants = 0;
        for (Class<?> layer : layers) {
            RuleSet set = null;
            List<Rule> declared = new ArrayList<>();
            for (Field f : layer.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                if (f.getType() == Rule.class) {
                    declared.add((Rule) f.get(null));
                } else if (f.getType() == RuleSet.class) {
                    set = (RuleSet) f.get(null);
                }
            }
            assertTrue(set != null, layer + " has no RuleSet SET");
            assertEquals(declared.size(), set.rules().size(), layer + ": " + declared + " vs " + set.rules());
            assertTrue(set.rules().containsAll(declared), layer + ": " + declared + " vs " + set.rules());
            constants += declared.size();
        }
        assertEquals(constants, Rules.catalogue().rules().size());
    }
}
