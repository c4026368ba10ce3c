package hmm4j.sim;

import java.io.Serial;

/**
 * Thrown on a worker's run thread whose run the watchdog gave up ({@link RunWorker}): the
 * run's result was handed over and the worker's loop goes on on another thread, so the code
 * of the abandoned thread must unwind without touching the worker's state. A worker's loop
 * lets it pass (it is not a failure of the exploration); {@link RunWorker} swallows it at the
 * bottom of the abandoned thread.
 */
@HiddenFromSites
public final class RunAbandoned extends Error {
    @Serial
    private static final long serialVersionUID = 1L;

    RunAbandoned() {
        super("this run was given up by its watchdog and handed over", null, false, false);
    }
}
