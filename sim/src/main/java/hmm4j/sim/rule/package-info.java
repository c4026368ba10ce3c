/**
 * Rules as data: {@link hmm4j.sim.rule.Rule} (a stable id, a one-line statement, the kernel
 * source it follows or "hmm4j's own rule", its failure kind), {@link hmm4j.sim.rule.RuleSet}
 * (the rules of one layer or driver) and {@link hmm4j.sim.rule.RuleCatalogue} (the sets
 * collected, ids unique). {@link hmm4j.sim.rule.SimRules} holds the rules of the substrate:
 * the runtime's (deadlock, bounds, exceptions), the primitives' and the one rule behind each
 * failure record that does not carry its own. Every {@link hmm4j.sim.failure.Failure} names
 * its rule; {@code docs/invariants.md} is generated from the full catalogue.
 */
package hmm4j.sim.rule;
