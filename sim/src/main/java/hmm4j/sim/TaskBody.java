package hmm4j.sim;

/** The code a task runs. It may throw: the runtime reports that as a failure of the run. */
@FunctionalInterface
@HiddenFromSites
public interface TaskBody {
    void run(Task self) throws Exception;
}
