/**
 * JMH benchmarks of the model's hot paths, each measured against a baseline in the same run
 * (docs/performance.md has the figures and how to reproduce them).
 *
 * <p>The figures of the performance bar and the benchmark behind each:
 * <ul>
 *   <li>{@code hmm_range_fault} over 2^20 present pages against a raw walk of the same radix
 *       table's leaf {@code long[]} tables: {@link hmm4j.bench.HmmRangeFaultBench}, with
 *       {@code -prof gc} for the allocation per page;</li>
 *   <li>an invalidation of 16 pages among 1,000 and 1,000,000 interval subscriptions, and
 *       against a linear list of the same subscriptions:
 *       {@link hmm4j.bench.InvalidationBench};</li>
 *   <li>an uncontended {@code mmu_interval_read_begin} + {@code mmu_interval_read_retry}
 *       pair against two volatile reads: {@link hmm4j.bench.ReadSeqBench};</li>
 *   <li>bytes per present page-table entry, from the allocation of a densely filled table
 *       ({@code -prof gc}, {@link hmm4j.bench.PageTableFootprintBench}) and from a count of
 *       its arrays ({@link hmm4j.bench.PageTableFootprint});</li>
 *   <li>the controlled runtime's cost per scheduling decision against a raw virtual-thread
 *       hand-off, and whole runs of the lost-update scenario per second:
 *       {@link hmm4j.bench.SchedulingBench};</li>
 *   <li>whole explored runs of three catalogue scenarios, per run and (with {@code -prof gc})
 *       allocation per decision: {@link hmm4j.bench.ScenarioRunBench};</li>
 *   <li>the explorer's parallel speed-up at 1, 2, ... N workers with the load average
 *       recorded, a program rather than a JMH benchmark: {@link hmm4j.bench.ParallelScaling}.</li>
 * </ul>
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li><b>Native runtime, no checkers.</b> Every benchmark of the model (all but
 *       {@link hmm4j.bench.SchedulingBench}, which measures the controlled runtime itself,
 *       and {@link hmm4j.bench.ScenarioRunBench} and {@link hmm4j.bench.ParallelScaling},
 *       which measure explored runs with their checkers)
 *       builds its machine with
 *       {@code Kernel.builder().nativeRuntime()} and never installs lockdep or the lifetime
 *       sanitizer's checks ({@code Checkers.install}): the figures are the model's own cost
 *       on real threads, where scheduling points are free.</li>
 *   <li><b>Set-up outside tasks.</b> The JMH thread is not a model task, so the pin rule
 *       ({@code assertAddressSpacePinned}) exempts it, as it exempts any set-up code. The
 *       locks a call's contract asks for (the mmap lock of {@code hmm_range_fault}, the
 *       page-table lock of a table walk) are really taken, from the JMH thread: the native
 *       runtime's locks record a thread outside any task as their holder, so
 *       {@code mmap_assert_locked} holds for it. Nothing in the model is bypassed.</li>
 *   <li><b>Baselines are plain Java</b> over the same data, measured in the same JVM
 *       configuration; a figure is always the ratio of the two.</li>
 *   <li><b>A settled heap.</b> A set-up that builds a million objects ends with full
 *       collections ({@code Machines.settleHeap}), so the collector's concurrent work on them
 *       does not share the 2 cores with the first measured iterations.</li>
 *   <li><b>Sanity before timing.</b> Each set-up runs the measured operation and its baseline
 *       once and checks that they agree (same outputs, same number of callbacks), so a
 *       benchmark cannot silently time a no-op.</li>
 * </ul>
 */
package hmm4j.bench;
