package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The objects one lane of an exploration shares across its runs, by type (the lockdep
 * dependency graph). A lane runs its runs one after another, so a store is used by one run
 * at a time; the monitor only orders hand-overs between worker threads.
 */
@HiddenFromSites
final class SharedStore {
    private final Map<Class<?>, Object> objects = new LinkedHashMap<>();

    synchronized <T> T get(Class<T> type, Supplier<? extends T> factory) {
        Object o = objects.get(type);
        if (o == null) {
            o = Objects.requireNonNull(factory.get(), "factory returned null");
            objects.put(type, o);
        }
        return type.cast(o);
    }
}
