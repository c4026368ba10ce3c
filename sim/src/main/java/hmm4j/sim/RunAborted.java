package hmm4j.sim;

/**
 * Thrown inside a task of a controlled run once the run has been stopped (a failure was
 * reported, a bound was exceeded or a replay diverged). It unwinds the task's stack; the
 * runtime swallows it. It is an {@link Error} so that driver code catching
 * {@code Exception} does not stop the unwinding by accident.
 */
@HiddenFromSites
public final class RunAborted extends Error {
    private static final long serialVersionUID = 1L;

    public RunAborted() {
        super("run aborted", null, false, false);
    }
}
