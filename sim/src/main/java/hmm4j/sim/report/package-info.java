/**
 * Rendering of run results for people: the text report ({@link hmm4j.sim.report.TextReport}:
 * verdict line, seed, replay command, the failure's details, then one column per task with
 * every operation and every context switch annotated with its reason), the options it takes
 * ({@link hmm4j.sim.report.ReportOptions}), and the words and layouts every rendering
 * shares: {@link hmm4j.sim.report.EventText} for events, switches and the failure mark,
 * {@link hmm4j.sim.report.FailureText} for the detail blocks (a use-after-free's three sites,
 * lockdep's "possible unsafe locking scenario"). The explorer's HTML timeline and trace-event
 * file ({@code hmm4j.explore.report}) render the same data with the same words.
 *
 * <p>Output is pinned by golden files: this module's tests for runs of the substrate alone
 * ({@code src/test/resources/golden/}), the {@code check} module's tests for the checkers'
 * failures.
 */
package hmm4j.sim.report;
