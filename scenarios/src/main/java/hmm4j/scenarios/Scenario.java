package hmm4j.scenarios;

import hmm4j.sim.Kernel;

/**
 * One entry of the catalogue: a design from the threads, in a known-good or known-bad
 * variant. {@link #setUp} builds the model state and spawns the tasks of one run on a fresh
 * kernel that already has the checkers installed; the runner then runs it.
 */
public interface Scenario {

    /** Short stable identifier, e.g. {@code "S1-kvm-mmgrab"}. */
    String id();

    /** One line describing the design and the race. */
    String title();

    /** What the checkers should conclude. */
    Expectation expectation();

    /** Builds one run: model objects and tasks on {@code kernel}. */
    void setUp(Kernel kernel);
}
