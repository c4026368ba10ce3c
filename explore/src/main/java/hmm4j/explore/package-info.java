/**
 * The explorer: runs a target (a scenario, a driver test) under a scheduling strategy many
 * times, with every run checked at its end, and reports the first failing interleaving with
 * a failure file that replays it exactly.
 *
 * <ul>
 *   <li>{@link hmm4j.explore.Explorer} — the one-call API: {@code explore(target, options)}
 *       and {@code replay(file, target)}.</li>
 *   <li>{@link hmm4j.explore.ExploreTarget}, {@link hmm4j.explore.ExplorationContext} — what
 *       runs, and the objects its runs share (the lockdep graph).</li>
 *   <li>{@link hmm4j.explore.ExploreOptions}, {@link hmm4j.explore.Shard} — strategy, budget,
 *       workers, lanes, shard, failure-file directory.</li>
 *   <li>{@link hmm4j.explore.ExplorationResult}, {@link hmm4j.explore.FoundFailure},
 *       {@link hmm4j.explore.ReplayResult}, {@link hmm4j.explore.ReportHeader} — results and
 *       the header of their report (which always carries the replay command).</li>
 * </ul>
 *
 * <h2>Determinism</h2>
 * A run is a function of its strategy, the strategy's parameters and the run's seed (run
 * {@code r} has seed {@code firstSeed + r}). Runs are grouped in lanes that share objects and
 * run in order; workers pick lanes, so the result of an exploration never depends on the
 * number of workers. Only a wall-clock budget makes the set of runs done depend on the
 * machine.
 *
 * <h2>Layering</h2>
 * This package uses only {@code hmm4j.sim}: it never imports the kernel model or the
 * checkers. Targets install the checkers themselves, sharing the lockdep graph through
 * {@link hmm4j.explore.ExplorationContext#shared}.
 */
package hmm4j.explore;
