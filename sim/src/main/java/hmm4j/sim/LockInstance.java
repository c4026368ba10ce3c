package hmm4j.sim;

/** A lock (or lockdep map) as the checkers see it. */
@HiddenFromSites
public interface LockInstance {

    /** The lockdep class this instance belongs to. */
    LockClass lockClass();

    /** Instance name for reports, e.g. {@code "mm#1->mmap_lock"}. */
    String name();

    /** True for spinning locks: holding one is atomic context. */
    boolean spinning();
}
