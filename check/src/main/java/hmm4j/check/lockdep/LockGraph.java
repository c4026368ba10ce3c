package hmm4j.check.lockdep;

import hmm4j.sim.LockClass;
import hmm4j.sim.failure.Site;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The lock-class dependency graph: an edge {@code A -> B} means some task took a lock of
 * class {@code B} while holding one of class {@code A}. The graph outlives a single run:
 * the {@link Lockdep} of every {@code Kernel} of an exploration may share one, so that an
 * order {@code A -> B} seen in one run and {@code B -> A} seen in another are reported as a
 * cycle, as the kernel's lockdep accumulates dependencies over a whole boot.
 *
 * <p>Overview: adjacency lists keyed by class in insertion order, so that the path found by
 * the breadth-first search (the shortest one, ties broken by first insertion) and hence
 * every report is deterministic for a deterministic sequence of runs. Each edge keeps the
 * first acquisition that created it. Cycles already reported are remembered by a canonical
 * key (the rotation of the cycle's class names that starts at the smallest name), so one
 * cycle is reported once per graph however many runs close it again.
 *
 * <p>Locking: every method synchronizes on the graph; several kernels running in parallel
 * may share one. No method calls out while holding the monitor.
 *
 * <p>Differences from the kernel: no separate read/write dependency kinds (a shared
 * acquisition depends like an exclusive one, as for {@code down_read}); no irq-state
 * classes; the graph is unbounded (the kernel has fixed-size tables).
 */
public final class LockGraph {

    /**
     * One dependency {@code from -> to}: {@code to} was first taken while {@code from} was
     * held at {@code site}, in run number {@code run} of this graph (kernel seed {@code seed}).
     */
    public record Dependency(LockClass from, LockClass to, Site site, int run, long seed) {

        public Dependency {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(site, "site");
        }

        /**
         * One report line, {@code "A -> B at task @ step N at Frame"}, tagged with the run and
         * seed it was recorded in when that is not {@code currentRun}.
         */
        public String line(int currentRun) {
            String s = from + " -> " + to + " at " + site;
            return run == currentRun ? s : s + " (earlier run " + run + ", seed " + seed + ")";
        }
    }

    private final Map<LockClass, Map<LockClass, Dependency>> edges = new LinkedHashMap<>();
    private final Set<String> reported = new HashSet<>();
    private int runs;
    private int edgeCount;

    /** An empty graph. */
    public LockGraph() {
    }

    /** Numbers a new run that feeds this graph (1, 2, ...). Called by {@link Lockdep}. */
    synchronized int beginRun() {
        return ++runs;
    }

    /** The number of runs (Lockdep instances) that have fed this graph. */
    public synchronized int runs() {
        return runs;
    }

    /**
     * Records {@code from -> to} unless present, first searching for a path
     * {@code to -> ... -> from} that the new edge would close into a cycle.
     *
     * @return the existing path (first edge leaves {@code to}, last enters {@code from}) when
     *         the new edge closes a cycle not reported before, otherwise null. The edge is
     *         recorded in both cases, so the same cycle is never returned twice.
     */
    synchronized List<Dependency> add(LockClass from, LockClass to, Site site, int run, long seed) {
        Map<LockClass, Dependency> out = edges.computeIfAbsent(from, k -> new LinkedHashMap<>());
        if (out.containsKey(to)) {
            return null;
        }
        List<Dependency> existing = findPath(to, from);
        out.put(to, new Dependency(from, to, site, run, seed));
        edgeCount++;
        if (existing == null) {
            return null;
        }
        List<LockClass> cycle = new ArrayList<>();
        for (Dependency d : existing) {
            cycle.add(d.from());
        }
        cycle.add(from);
        return reported.add(cycleKey(cycle)) ? existing : null;
    }

    /**
     * Marks the recursive acquisition of {@code lockClass} as reported.
     *
     * @return true the first time for this class
     */
    synchronized boolean markRecursionReported(LockClass lockClass) {
        return reported.add("recursive " + lockClass.name());
    }

    /** True if {@code to} has been taken while {@code from} was held. */
    public synchronized boolean hasDependency(LockClass from, LockClass to) {
        Map<LockClass, Dependency> out = edges.get(from);
        return out != null && out.containsKey(to);
    }

    /** The shortest recorded path {@code from -> ... -> to}, empty when there is none. */
    public synchronized List<Dependency> path(LockClass from, LockClass to) {
        List<Dependency> p = findPath(from, to);
        return p == null ? List.of() : List.copyOf(p);
    }

    /** Every dependency, in the order recorded (grouped by source class). */
    public synchronized List<Dependency> dependencies() {
        List<Dependency> all = new ArrayList<>(edgeCount);
        edges.values().forEach(out -> all.addAll(out.values()));
        return Collections.unmodifiableList(all);
    }

    /** The number of dependencies recorded. */
    public synchronized int dependencyCount() {
        return edgeCount;
    }

    /** Breadth-first search; null when {@code to} is unreachable from {@code from}. */
    private List<Dependency> findPath(LockClass from, LockClass to) {
        if (from.equals(to)) {
            return null;
        }
        Map<LockClass, Dependency> reachedBy = new HashMap<>();
        ArrayDeque<LockClass> queue = new ArrayDeque<>();
        queue.add(from);
        reachedBy.put(from, null);
        while (!queue.isEmpty()) {
            LockClass c = queue.poll();
            Map<LockClass, Dependency> out = edges.get(c);
            if (out == null) {
                continue;
            }
            for (Dependency d : out.values()) {
                if (reachedBy.containsKey(d.to())) {
                    continue;
                }
                reachedBy.put(d.to(), d);
                if (d.to().equals(to)) {
                    List<Dependency> path = new ArrayList<>();
                    for (Dependency e = d; e != null; e = reachedBy.get(e.from())) {
                        path.add(e);
                    }
                    Collections.reverse(path);
                    return path;
                }
                queue.add(d.to());
            }
        }
        return null;
    }

    private static String cycleKey(List<LockClass> cycle) {
        int start = 0;
        for (int i = 1; i < cycle.size(); i++) {
            if (cycle.get(i).name().compareTo(cycle.get(start).name()) < 0) {
                start = i;
            }
        }
        StringBuilder b = new StringBuilder("cycle");
        for (int i = 0; i < cycle.size(); i++) {
            b.append(' ').append(cycle.get((start + i) % cycle.size()).name());
        }
        return b.toString();
    }
}
