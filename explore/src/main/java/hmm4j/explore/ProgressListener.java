package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;

/**
 * Hears about an exploration while it runs. Called from worker threads, one call at a time
 * (the explorer serialises them), after every finished run and once at the end.
 */
@HiddenFromSites
public interface ProgressListener {

    /** A listener that does nothing. */
    ProgressListener NONE = new ProgressListener() {
        @Override
        public void runFinished(long runsDone, long runsPlanned, long failures, long elapsedNanos) {
        }

        @Override
        public void finished() {
        }
    };

    /**
     * A run finished, before the {@link #runFinished} call that counts it; by default nothing.
     *
     * @param runIndex the run's index in the exploration
     * @param seed     the run's seed
     * @param failed   whether the run failed
     */
    default void runDone(int runIndex, long seed, boolean failed) {
    }

    /**
     * A run finished.
     *
     * @param runsDone     runs finished so far
     * @param runsPlanned  runs the budget allows (of this shard), or -1 when only the time budget bounds them
     * @param failures     failing runs so far
     * @param elapsedNanos wall time since the exploration started
     */
    void runFinished(long runsDone, long runsPlanned, long failures, long elapsedNanos);

    /** The exploration ended; no more calls follow. */
    void finished();
}
