package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a run's set-up knows of the exploration around it: the run's index and seed, and
 * objects shared with the earlier runs of the exploration, such as the lockdep dependency
 * graph, so that a lock-order cycle whose two halves appear in two different runs is still
 * reported:
 *
 * <pre>{@code
 * Checkers.install(kernel, context.shared(LockGraph.class, LockGraph::new));
 * }</pre>
 *
 * <p>Sharing and determinism: runs are split into lanes (run {@code p} of a shard is in
 * lane {@code p mod lanes}); the runs of one lane run one after another and share one set of
 * objects, the lanes run in parallel. The result of an exploration therefore depends on the
 * number of lanes but never on the number of workers. A failure that depended on shared
 * objects is replayed by re-running its lane's earlier runs first.
 */
@HiddenFromSites
public final class ExplorationContext {
    private final SharedStore store;
    private final int runIndex;
    private final long seed;
    private volatile boolean usedShared;

    ExplorationContext(SharedStore store, int runIndex, long seed) {
        this.store = store;
        this.runIndex = runIndex;
        this.seed = seed;
    }

    /** A context of its own, for running a set-up outside an exploration (tests, the JUnit resolver). */
    public static ExplorationContext standalone(long seed) {
        return new ExplorationContext(new SharedStore(), 0, seed);
    }

    /** The run's index within the exploration, from 0. */
    public int runIndex() {
        return runIndex;
    }

    /** The run's seed (the kernel's seed). */
    public long seed() {
        return seed;
    }

    /**
     * The object of type {@code type} shared by this run and the earlier runs of its lane,
     * created with {@code factory} by the first run that asks. The object must be safe to
     * use from the lane's runs one after another (it is never used by two runs at once).
     */
    public <T> T shared(Class<T> type, Supplier<? extends T> factory) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(factory, "factory");
        usedShared = true;
        return store.get(type, factory);
    }

    /** True when the set-up asked for a shared object. */
    boolean usedShared() {
        return usedShared;
    }
}
