package hmm4j.check.lifetime;

import hmm4j.check.CheckRules;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The per-kernel registry of {@link KObject}s: live objects by type, and the leak check at
 * the end of the run for objects that must be freed by then.
 *
 * <p>Overview: every {@code KObject} registers here when constructed and deregisters when
 * freed, so {@link #liveCount} answers "how many mm_structs are alive" at any point. At
 * quiescence (every task done) each still-live object marked with
 * {@link KObject#expectFreedAtQuiescence} is reported as leaked, in allocation order, once.
 *
 * <p>Leaks are reported as {@link Failure.RefcountError} with problem
 * {@link RefcountProblem#LEAK}: the closed failure set has no separate memory-leak type, and
 * in this model an object outlives its run only because some reference to it was never
 * dropped (the {@link RefLedger} of its counter says whose). The detail names the object's
 * type and its allocation site, as kmemleak prints the allocation backtrace.
 *
 * <p>Locking: all state is guarded by {@code this}; reports are made outside it.
 *
 * <p>Differences from the kernel: kmemleak scans memory for pointers to decide what is
 * unreferenced; here the model states which objects must be gone at the end of a run.
 */
@HiddenFromSites
public final class Sanitizer {

    private static final class Entry {
        final long serial;
        boolean reported;

        Entry(long serial) {
            this.serial = serial;
        }
    }

    private final Kernel kernel;
    private final Map<KObject, Entry> live = new IdentityHashMap<>();
    private final Map<Class<?>, Integer> liveByType = new IdentityHashMap<>();
    private long allocations;
    private long frees;
    private volatile boolean installed;

    private Sanitizer(Kernel kernel) {
        this.kernel = kernel;
    }

    /**
     * The sanitizer of {@code kernel}, created (and its leak check registered with
     * {@link Kernel#atQuiescence}) on first use.
     */
    public static Sanitizer of(Kernel kernel) {
        Sanitizer existing = kernel.componentOrNull(Sanitizer.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(Sanitizer.class, () -> create(kernel));
    }

    private static Sanitizer create(Kernel kernel) {
        Sanitizer s = new Sanitizer(kernel);
        kernel.atQuiescence("mem.leak", s::checkLeaks);
        return s;
    }

    /**
     * Marks the checkers as installed on this kernel ({@link hmm4j.check.Checkers#install}).
     * From then on, model objects that are not {@code KObject}s but whose misuse is reported
     * with their sites (physical pages) record their allocation and free sites.
     */
    public void install() {
        installed = true;
    }

    /**
     * True once the checkers are installed on this kernel: objects outside {@code KObject}
     * then record allocation and free sites for their reports; without the checkers they
     * record none and allocate nothing for it. One volatile read.
     */
    public boolean installed() {
        return installed;
    }

    synchronized void allocated(KObject o) {
        live.put(o, new Entry(++allocations));
        liveByType.merge(o.getClass(), 1, Integer::sum);
    }

    synchronized void freed(KObject o) {
        if (live.remove(o) != null) {
            frees++;
            liveByType.merge(o.getClass(), -1, (a, b) -> a + b == 0 ? null : a + b);
        }
    }

    /** Live objects whose class is {@code type} or a subtype of it. */
    public synchronized int liveCount(Class<?> type) {
        int n = 0;
        for (Map.Entry<Class<?>, Integer> e : liveByType.entrySet()) {
            if (type.isAssignableFrom(e.getKey())) {
                n += e.getValue();
            }
        }
        return n;
    }

    /** Live objects by simple class name, sorted by name. */
    public synchronized Map<String, Integer> liveCountsByType() {
        Map<String, Integer> m = new TreeMap<>();
        liveByType.forEach((c, n) -> m.merge(c.getSimpleName(), n, Integer::sum));
        return m;
    }

    /** Every live object, in allocation order. */
    public synchronized List<KObject> liveObjects() {
        List<KObject> objects = new ArrayList<>(live.keySet());
        objects.sort(Comparator.comparingLong(o -> live.get(o).serial));
        return objects;
    }

    /** Objects allocated so far. */
    public synchronized long allocations() {
        return allocations;
    }

    /** Objects freed so far (double frees not counted). */
    public synchronized long frees() {
        return frees;
    }

    /**
     * Reports every live object marked {@link KObject#expectFreedAtQuiescence}, once each, as
     * a {@link RefcountProblem#LEAK}. Runs automatically at quiescence; may be called
     * earlier by a validator.
     */
    public void checkLeaks() {
        List<KObject> leaked = new ArrayList<>();
        synchronized (this) {
            for (KObject o : liveObjects()) {
                Entry e = live.get(o);
                if (o.expectedFreedAtQuiescence() && !e.reported) {
                    e.reported = true;
                    leaked.add(o);
                }
            }
        }
        for (KObject o : leaked) {
            kernel.report(new Failure.RefcountError(o.name(), RefcountProblem.LEAK,
                    "unreferenced object " + o.name() + " (" + o.getClass().getSimpleName()
                            + ") never freed; allocated by " + o.allocSite(), detectionSite(kernel), CheckRules.MEMORY_LEAK));
        }
    }

    /**
     * Where an end-of-run check detected something: the current site during the run, and at
     * quiescence an {@code <end of run>} site without frames (the only frames left then are
     * those of whoever called {@code Kernel.run}, which would mislead).
     */
    static Site detectionSite(Kernel kernel) {
        return kernel.quiescent() ? new Site("<end of run>", kernel.runtime().step(), List.of()) : kernel.site();
    }
}
