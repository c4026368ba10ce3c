package hmm4j.check.lockdep;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.LockMode;

/**
 * How the two ends of a dependency {@code A -> B} were held, in lockdep's notation
 * {@code -(XY)->}: {@code X} is how {@code A} was held ({@code E}xclusive or
 * {@code S}hared, i.e. any reader), {@code Y} how {@code B} was taken ({@code R}ecursive
 * reader or {@code N}on-recursive: a writer or a {@code down_read} reader).
 *
 * <p>A path of dependencies is a deadlock only if it is <em>strong</em>: no lock on it is
 * entered by a {@code -(?R)->} edge and left by a {@code -(S?)->} edge, since a recursive
 * reader never waits for a reader. Follows "Dependency types and strong dependency paths"
 * in the kernel's {@code Documentation/locking/lockdep-design.rst}.
 */
@HiddenFromSites
public enum DependencyKind {
    /** {@code A} held exclusively, {@code B} taken by a writer or a non-recursive reader. */
    EN,
    /** {@code A} held exclusively, {@code B} taken by a recursive reader. */
    ER,
    /** {@code A} held for read, {@code B} taken by a writer or a non-recursive reader. */
    SN,
    /** {@code A} held for read, {@code B} taken by a recursive reader. */
    SR;

    /** The kind of the dependency from a lock held in {@code held} to one taken in {@code taken}. */
    public static DependencyKind of(LockMode held, LockMode taken) {
        boolean recursive = taken == LockMode.RECURSIVE_READ;
        if (held.isRead()) {
            return recursive ? SR : SN;
        }
        return recursive ? ER : EN;
    }

    /** True if the source lock was held for read ({@code -(S?)->}). */
    public boolean fromReader() {
        return this == SN || this == SR;
    }

    /** True if the target lock was taken by a recursive reader ({@code -(?R)->}). */
    public boolean toRecursiveReader() {
        return this == ER || this == SR;
    }

    /** For reports: empty for {@code EN}, else how the ends were held, e.g. {@code " (A held for read)"}. */
    String describe(String from, String to) {
        return switch (this) {
            case EN -> "";
            case ER -> " (" + to + " taken for recursive read)";
            case SN -> " (" + from + " held for read)";
            case SR -> " (" + from + " held for read, " + to + " taken for recursive read)";
        };
    }
}
