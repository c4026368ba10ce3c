/**
 * The rule catalogue of hmm4j ({@link hmm4j.scenarios.rules.Rules}): the rule sets of every
 * layer collected, the scenarios' own rules ({@link hmm4j.scenarios.rules.ScenarioRules}),
 * and the generator of {@code docs/invariants.md} ({@link hmm4j.scenarios.rules.InvariantsDoc}).
 */
package hmm4j.scenarios.rules;
