package hmm4j.sim;

/**
 * A lockdep lock class: every lock created with the same class name is one node of the
 * dependency graph, as kernel locks initialised at one site share a {@code lock_class_key}
 * (e.g. every mm's {@code mm->mmap_lock}).
 */
@HiddenFromSites
public record LockClass(String name) {
    @Override
    public String toString() {
        return name;
    }
}
