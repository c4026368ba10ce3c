/**
 * The scenario catalogue: designs from the mailing-list threads of 2019–2020
 * (S1 {@code use_mm}, S3 and S4 notifier lifetimes, S5 the test device), each a set-up of the
 * model plus tasks and an expected verdict, and the runner that explores each over seeds
 * and compares what it finds with what is expected. {@code hmm4j check} prints the result.
 */
package hmm4j.scenarios;
