/**
 * The scheduling strategies, one small class each behind the substrate's
 * {@link hmm4j.sim.Strategy}: {@link hmm4j.explore.strategy.PctStrategy} (PCT with bug depth
 * d), {@link hmm4j.explore.strategy.PosStrategy} (partial order sampling) and
 * {@link hmm4j.explore.strategy.DfsSearch} (bounded DFS with a preemption bound). The random
 * walk ({@link hmm4j.sim.RandomWalkStrategy}) and replay ({@link hmm4j.sim.ReplayStrategy})
 * live in the substrate. {@link hmm4j.explore.strategy.StrategySpec} names a strategy as the
 * command line and failure files write it, including the portfolio, which rotates strategies
 * by run index.
 *
 * <p>Every strategy is a deterministic function of its parameters and of the scheduling
 * points it sees; randomised ones draw from a generator seeded from the run's seed.
 */
package hmm4j.explore.strategy;
