/**
 * Rendering of run results for people: the text report (verdict line, seed, one column per
 * task with the steps that led to the failure, then the failure's details). The explorer
 * adds HTML and trace-event renderings on top of the same data.
 */
package hmm4j.sim.report;
