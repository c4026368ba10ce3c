/**
 * Rendering of run results for people: the text report (verdict line, seed, the failure's
 * details, then one column per task with the steps that led to the failure). Its output is
 * pinned by golden files in this module's tests ({@code src/test/resources/golden/}). The
 * explorer adds HTML and trace-event renderings on top of the same data.
 */
package hmm4j.sim.report;
