/**
 * Renderings of a run for browsers, trace viewers and scripts, on top of the text report in
 * {@code hmm4j.sim.report} and with the same words for events, switches and failures
 * ({@link hmm4j.sim.report.EventText}, {@link hmm4j.sim.report.FailureText}):
 *
 * <ul>
 *   <li>{@link hmm4j.explore.report.HtmlReport#render(hmm4j.sim.RunResult,
 *       hmm4j.explore.report.RunHeader)} — one self-contained HTML page: header with verdict,
 *       seed and replay command, a static SVG timeline (a lane per task, steps along the x
 *       axis, a block per operation, waits, every context switch with its reason, the failure
 *       marked, tooltips with operation and code site, the key events labelled on the picture by
 *       {@link hmm4j.explore.report.KeyEvents} in rows that never overlap), the failure's
 *       details and a table of every event; for a failure, the minimised run shown and the run
 *       as found one click away. No script and nothing fetched from the network.</li>
 *   <li>{@link hmm4j.explore.report.PerfettoTrace#render(hmm4j.sim.RunResult)} — the same run
 *       as Chrome trace-event JSON for {@code ui.perfetto.dev} and {@code chrome://tracing}:
 *       a thread per task, a slice per event and per wait, instants for switches and the
 *       failure, flow arrows for wake-ups.</li>
 *   <li>{@link hmm4j.explore.report.JsonSummary#render(java.util.List)} — the {@code --json}
 *       summary of a check or exploration: per scenario the verdicts, runs, time and
 *       failures.</li>
 * </ul>
 *
 * <p>All three are deterministic: the same run renders to the same text; the only wall-clock
 * value anywhere is the time a caller puts in a {@link hmm4j.explore.report.JsonSummary.Scenario}.
 * The package uses only {@code hmm4j.sim} (and Jackson's streaming generator), like the rest
 * of the explorer.
 */
package hmm4j.explore.report;
