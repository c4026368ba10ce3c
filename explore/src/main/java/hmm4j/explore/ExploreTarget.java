package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import java.util.Objects;

/**
 * What an exploration runs: a name (a scenario id, a test name) and a set-up that builds
 * one run on a fresh controlled kernel, creating the model objects and spawning the tasks.
 * The explorer then runs the kernel; checks that must hold at the end of every run are
 * registered by the set-up with {@link Kernel#atQuiescence}.
 *
 * <p>The set-up is called once per run, possibly from several worker threads at once for
 * different kernels: it must keep per-run state on the kernel (or in local variables), and
 * state meant to outlive a run in the {@link ExplorationContext}.
 *
 * @param name  stable name, written into failure files and used to find the target again
 * @param setup builds one run
 */
@HiddenFromSites
public record ExploreTarget(String name, Setup setup) {

    /** Builds one run on {@code kernel}. */
    @FunctionalInterface
    public interface Setup {
        /**
         * Creates the model state and spawns the tasks of one run.
         *
         * @param kernel  a fresh controlled kernel, not yet run
         * @param context this run's index and seed and the exploration's shared objects
         * @throws Exception when the set-up itself fails (reported as an error, not a finding)
         */
        void setUp(Kernel kernel, ExplorationContext context) throws Exception;
    }

    public ExploreTarget {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(setup, "setup");
        if (name.isBlank()) throw new IllegalArgumentException("target name is blank");
    }

    /** A target named {@code name} built by {@code setup}. */
    public static ExploreTarget of(String name, Setup setup) {
        return new ExploreTarget(name, setup);
    }
}
