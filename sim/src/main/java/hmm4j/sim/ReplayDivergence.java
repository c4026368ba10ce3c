package hmm4j.sim;

/** Thrown by a replaying strategy when the run no longer matches the recorded schedule. */
@HiddenFromSites
public final class ReplayDivergence extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ReplayDivergence(String message) {
        super(message);
    }
}
