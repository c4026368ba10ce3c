/**
 * The scenario catalogue: designs from the mailing-list threads in {@code shared/seeds}
 * (and the scenario list of {@code dmirror-and-selftests.md} §3), each a set-up of the
 * model plus tasks and an expected verdict, and the runner that explores each over seeds
 * and compares what it finds with what is expected. {@code hmm4j check} prints the result.
 */
package hmm4j.scenarios;
