package hmm4j.check.lockdep;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.LockClass;
import hmm4j.sim.failure.Failure;
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
 * class {@code B} while holding one of class {@code A}, and its {@link DependencyKind} says
 * how the two were held. The graph outlives a single run: the {@link Lockdep} of every
 * {@code Kernel} of an exploration may share one, so that an order {@code A -> B} seen in
 * one run and {@code B -> A} seen in another are reported as a cycle, as the kernel's
 * lockdep accumulates dependencies over a whole boot.
 *
 * <p>Overview: adjacency lists keyed by class in insertion order; each edge keeps, per
 * kind, the first acquisition that recorded it. A new dependency closes a cycle when the
 * graph already has a <em>strong</em> path back (no lock on it entered by a recursive read
 * and left as a reader, {@link DependencyKind}), searched breadth-first over (class, entered
 * by a recursive read) states, so the path found (the shortest, ties broken by first
 * insertion and then by kind) and hence every report is deterministic for a deterministic
 * sequence of runs. Cycles already reported are remembered by a canonical key (the
 * rotation of the cycle's class names that starts at the smallest name), so one cycle is
 * reported once per graph however many runs close it again.
 *
 * <p>Locking: every method synchronizes on the graph; several kernels running in parallel
 * may share one. No method calls out while holding the monitor.
 *
 * <p>Differences from the kernel: no irq-state classes; a dependency is recorded from every
 * held lock, not only from the nearest one ({@code check_prevs_add} stops at the first
 * non-trylock entry and relies on transitivity); the graph is unbounded (the kernel has
 * fixed-size tables).
 */
@HiddenFromSites
public final class LockGraph {

    /**
     * One dependency {@code from -(kind)-> to}: {@code to} was first taken this way while
     * {@code from} was held, by the task with id {@code taskId} at {@code site}, in run number
     * {@code run} of this graph (kernel seed {@code seed}).
     */
    public record Dependency(LockClass from, LockClass to, DependencyKind kind, Site site, int taskId, int run,
                             long seed) {

        public Dependency {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(site, "site");
        }

        /**
         * One report line, {@code "A -> B at task @ step N at Frame"} (with how the ends were
         * held unless both were exclusive), tagged with the run and seed it was recorded in
         * when that is not {@code currentRun}.
         */
        public String line(int currentRun) {
            return link(currentRun).line();
        }

        /** The dependency as a report's chain entry, seen from run {@code currentRun}. */
        public Failure.LockLink link(int currentRun) {
            return new Failure.LockLink(from.name(), to.name(), kind.describe(from.name(), to.name()), taskId,
                    site.task(), run, seed, run != currentRun, site);
        }
    }

    /** A search state: a class, and whether the path entered it by a recursive read. */
    private record State(LockClass lockClass, boolean enteredByRecursiveRead) {
    }

    private static final DependencyKind[] KINDS = DependencyKind.values();

    private final Map<LockClass, Map<LockClass, Dependency[]>> edges = new LinkedHashMap<>();
    private final Set<String> reported = new HashSet<>();
    private int runs;
    private int dependencyCount;

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
     * Records {@code from -(kind)-> to} unless present, first searching for a strong path
     * {@code to -> ... -> from} that the new dependency would close into a strong cycle.
     *
     * @return the existing path (first edge leaves {@code to}, last enters {@code from}) when
     *         the new dependency closes a cycle not reported before, otherwise null. The
     *         dependency is recorded in both cases, so the same cycle is never returned twice.
     */
    synchronized List<Dependency> add(LockClass from, LockClass to, DependencyKind kind, Site site, int taskId,
                                      int run, long seed) {
        Map<LockClass, Dependency[]> out = edges.get(from);
        Dependency[] byKind = out == null ? null : out.get(to);
        if (byKind != null && byKind[kind.ordinal()] != null) {
            return null; // the common case: two lookups, nothing allocated
        }
        if (byKind == null) {
            if (out == null) {
                out = new LinkedHashMap<>();
                edges.put(from, out);
            }
            byKind = new Dependency[KINDS.length];
            out.put(to, byKind);
        }
        // The new edge enters `to` by a recursive read if kind is ?R, and the cycle leaves
        // `from` as a reader if kind is S?: those two ends meet the path's ends.
        List<Dependency> existing = findStrongPath(to, kind.toRecursiveReader(), from, kind.fromReader());
        byKind[kind.ordinal()] = new Dependency(from, to, kind, site, taskId, run, seed);
        dependencyCount++;
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

    /** True if {@code to} has been taken while {@code from} was held, in any kind. */
    public synchronized boolean hasDependency(LockClass from, LockClass to) {
        Map<LockClass, Dependency[]> out = edges.get(from);
        return out != null && out.containsKey(to);
    }

    /** True if {@code to} has been taken while {@code from} was held, in this kind. */
    public synchronized boolean hasDependency(LockClass from, LockClass to, DependencyKind kind) {
        Map<LockClass, Dependency[]> out = edges.get(from);
        Dependency[] byKind = out == null ? null : out.get(to);
        return byKind != null && byKind[kind.ordinal()] != null;
    }

    /** The shortest recorded strong path {@code from -> ... -> to}, empty when there is none. */
    public synchronized List<Dependency> path(LockClass from, LockClass to) {
        List<Dependency> p = findStrongPath(from, false, to, false);
        return p == null ? List.of() : List.copyOf(p);
    }

    /** Every dependency, in the order recorded (grouped by source class, then target, then kind). */
    public synchronized List<Dependency> dependencies() {
        List<Dependency> all = new ArrayList<>(dependencyCount);
        for (Map<LockClass, Dependency[]> out : edges.values()) {
            for (Dependency[] byKind : out.values()) {
                for (Dependency d : byKind) {
                    if (d != null) {
                        all.add(d);
                    }
                }
            }
        }
        return Collections.unmodifiableList(all);
    }

    /** The number of dependencies recorded (an edge taken in two kinds counts twice). */
    public synchronized int dependencyCount() {
        return dependencyCount;
    }

    /**
     * Breadth-first search for a strong path from {@code from} (entered by a recursive read
     * if {@code enteredByRecursiveRead}) to {@code to}, to be left as a reader if
     * {@code leftAsReader}; null when there is none.
     */
    private List<Dependency> findStrongPath(LockClass from, boolean enteredByRecursiveRead, LockClass to,
                                            boolean leftAsReader) {
        if (from.equals(to) || edges.get(from) == null) {
            return null; // most new dependencies: nothing leaves `from` yet, so no path, nothing built
        }
        State start = new State(from, enteredByRecursiveRead);
        Map<State, Dependency> reachedBy = new HashMap<>();
        Map<State, State> previous = new HashMap<>();
        ArrayDeque<State> queue = new ArrayDeque<>();
        queue.add(start);
        reachedBy.put(start, null);
        while (!queue.isEmpty()) {
            State s = queue.poll();
            Map<LockClass, Dependency[]> out = edges.get(s.lockClass());
            if (out == null) {
                continue;
            }
            for (Dependency[] byKind : out.values()) {
                for (Dependency d : byKind) {
                    if (d == null || s.enteredByRecursiveRead() && d.kind().fromReader()) {
                        continue; // absent, or entered by a recursive read and left as a reader
                    }
                    State next = new State(d.to(), d.kind().toRecursiveReader());
                    // Entering by a non-recursive acquisition allows every way out, so it
                    // subsumes entering the same class by a recursive read.
                    if (reachedBy.containsKey(next)
                            || next.enteredByRecursiveRead() && reachedBy.containsKey(new State(d.to(), false))) {
                        continue;
                    }
                    reachedBy.put(next, d);
                    previous.put(next, s);
                    if (d.to().equals(to) && !(next.enteredByRecursiveRead() && leftAsReader)) {
                        List<Dependency> path = new ArrayList<>();
                        for (State e = next; reachedBy.get(e) != null; e = previous.get(e)) {
                            path.add(reachedBy.get(e));
                        }
                        Collections.reverse(path);
                        return path;
                    }
                    queue.add(next);
                }
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
