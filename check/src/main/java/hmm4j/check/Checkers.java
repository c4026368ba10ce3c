package hmm4j.check;

import hmm4j.check.lifetime.Sanitizer;
import hmm4j.check.lockdep.LockGraph;
import hmm4j.check.lockdep.Lockdep;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;

/**
 * Installs the checkers on a {@link Kernel}: lockdep as the kernel's sync observer and the
 * lifetime {@link Sanitizer} as a component, each with its end-of-run checks.
 */
@HiddenFromSites
public final class Checkers {

    private Checkers() {
    }

    /**
     * Installs a fresh {@link Lockdep} (with its own {@link LockGraph}) and the
     * {@link Sanitizer} on {@code kernel}. Call once, before the run starts.
     *
     * @throws IllegalStateException if lockdep is already attached to the kernel
     */
    public static void install(Kernel kernel) {
        install(kernel, new LockGraph());
    }

    /**
     * Installs the checkers on {@code kernel} with a Lockdep that shares {@code graph} with
     * earlier runs, so that a lock-order cycle spread over several runs of one exploration
     * is reported. Call once, before the run starts.
     *
     * @throws IllegalStateException if lockdep is already attached to the kernel
     */
    public static void install(Kernel kernel, LockGraph graph) {
        Lockdep.attach(kernel, graph);
        Sanitizer.of(kernel).install();
    }
}
