package hmm4j.scenarios.rules;

import hmm4j.check.CheckRules;
import hmm4j.drivers.dmirror.DmirrorRules;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.hmm2019.Hmm2019Rules;
import hmm4j.sim.rule.RuleCatalogue;
import hmm4j.sim.rule.SimRules;

/**
 * The rule catalogue of hmm4j: the sets of every layer, collected here because this module
 * sees them all ({@code sim}'s runtime and failure kinds, {@code check}'s checkers, the
 * {@code kernel} model, the {@code drivers}, the scenarios'). {@code docs/invariants.md} is
 * generated from it ({@link InvariantsDoc}); a user's own drivers extend it with
 * {@link RuleCatalogue#with}.
 */
public final class Rules {
    private static final RuleCatalogue CATALOGUE = RuleCatalogue.of(SimRules.SET, CheckRules.SET, KernelRules.SET,
            Hmm2019Rules.SET, DmirrorRules.SET, ScenarioRules.SET);

    private Rules() {
    }

    /** Every rule hmm4j enforces, by layer, bottom first. */
    public static RuleCatalogue catalogue() {
        return CATALOGUE;
    }
}
