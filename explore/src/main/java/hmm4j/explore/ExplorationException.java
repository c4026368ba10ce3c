package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;

/**
 * The exploration itself could not go on: a target's set-up threw, or a run could not be
 * rebuilt. A failure found in the model is never this; it is a result.
 */
@HiddenFromSites
public final class ExplorationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ExplorationException(String message, Throwable cause) {
        super(message, cause);
    }

    public ExplorationException(String message) {
        super(message);
    }
}
