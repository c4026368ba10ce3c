/**
 * Minimisation of failing schedules: {@link hmm4j.explore.minimise.Minimiser} removes
 * preemptions while the same failure persists; {@link hmm4j.explore.minimise.Schedules}
 * counts context switches and preemptions and rearranges schedules as orders of blocks, which
 * {@link hmm4j.explore.minimise.OrderStrategy} re-executes.
 */
package hmm4j.explore.minimise;
