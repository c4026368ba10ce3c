package hmm4j.sim;

/**
 * A typed slot on a {@link Task}, so that layers above the substrate (the mm model, the
 * checkers) can attach per-task state ({@code current->mm}, the held-lock stack) without
 * the substrate knowing their types. Keys compare by identity; create one per concern.
 *
 * @param <T> the type of the value stored under this key
 */
@HiddenFromSites
public final class TaskKey<T> {
    private final String name;

    public TaskKey(String name) {
        this.name = name;
    }

    @Override
    public String toString() {
        return name;
    }
}
