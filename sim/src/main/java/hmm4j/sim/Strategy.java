package hmm4j.sim;

/**
 * Chooses the next task at every scheduling point of a controlled run. Implementations
 * must be deterministic functions of their construction parameters (seed) and the points
 * they have seen, so that the same seed gives the same run, decision for decision.
 */
@HiddenFromSites
public interface Strategy {

    /** Returns the index into {@code point.enabled()} of the task to run next. */
    int pick(SchedulingPoint point);

    /** A short description with parameters, for reports and failure files. */
    String describe();
}
