package hmm4j.sim.rule;

import hmm4j.sim.HiddenFromSites;
import java.util.List;
import java.util.Objects;

/**
 * The rules one layer (or one driver) declares, under a name that heads their section of
 * {@code docs/invariants.md}. Each layer keeps its rules as constants next to its code
 * ({@code SimRules}, {@code CheckRules}, {@code KernelRules}, {@code DmirrorRules}, ...) and
 * exposes one set; a {@link RuleCatalogue} collects the sets.
 *
 * @param name        e.g. {@code "runtime and failure kinds (sim)"}
 * @param description one or two sentences on where these rules are checked
 * @param rules       the rules, in the order the documentation lists them
 */
@HiddenFromSites
public record RuleSet(String name, String description, List<Rule> rules) {
    public RuleSet {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        rules = List.copyOf(rules);
    }
}
