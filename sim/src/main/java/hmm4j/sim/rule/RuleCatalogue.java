package hmm4j.sim.rule;

import hmm4j.sim.HiddenFromSites;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rule sets collected into one catalogue, with every id unique. The top layer that sees all
 * the others builds the full one ({@code hmm4j.scenarios.Rules#catalogue()}); a user's own
 * drivers add theirs with {@link #with(RuleSet)}.
 */
@HiddenFromSites
public final class RuleCatalogue {
    private final List<RuleSet> sets;
    private final Map<String, Rule> byId;

    private RuleCatalogue(List<RuleSet> sets) {
        this.sets = List.copyOf(sets);
        Map<String, Rule> ids = new LinkedHashMap<>();
        for (RuleSet s : this.sets) {
            for (Rule r : s.rules()) {
                if (ids.putIfAbsent(r.id(), r) != null) {
                    throw new IllegalArgumentException("rule id " + r.id() + " is declared twice (in " + s.name() + ")");
                }
            }
        }
        this.byId = Collections.unmodifiableMap(ids);
    }

    /** The catalogue of {@code sets}, in their order; throws if two rules share an id. */
    public static RuleCatalogue of(RuleSet... sets) {
        return new RuleCatalogue(List.of(sets));
    }

    /** This catalogue with {@code more} appended. */
    public RuleCatalogue with(RuleSet more) {
        List<RuleSet> all = new ArrayList<>(sets);
        all.add(more);
        return new RuleCatalogue(all);
    }

    /** The sets, in order. */
    public List<RuleSet> sets() {
        return sets;
    }

    /** Every rule, in order. */
    public List<Rule> rules() {
        return List.copyOf(byId.values());
    }

    /** The rule with {@code id}, if declared. */
    public Optional<Rule> find(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    /** True if {@code rule} (the same id) is declared here. */
    public boolean contains(Rule rule) {
        return byId.containsKey(rule.id());
    }
}
