package hmm4j.check.lifetime;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.RefHolder;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Who holds the references of one counted object, and where each was taken: the model's
 * {@code ref_tracker} ({@code lib/ref_tracker.c}). It does not own the count (the model's
 * counter does, e.g. {@code mm->mm_users}); the model calls {@link #get} next to every
 * increment and {@link #put} next to every decrement, naming the holder.
 *
 * <p>Overview: a holder is a {@link RefHolder} known by identity: a task for the references
 * a task takes, or a {@link RefHandle} its owner made for itself (a device, a subscription).
 * Names are for reports only: two tasks both named {@code "worker"} are two holders, and a
 * put by one never drops the other's reference. A holder may hold several references, kept
 * in the order taken, and a put drops its most recent one. Handing a reference to another
 * holder is an explicit {@link #transfer}. A put or transfer by a holder with no outstanding
 * reference is a {@link RefcountProblem#PUT_WITHOUT_GET}, citing where that holder's last
 * reference was put if it had one (the first put of a double put); references still outstanding when
 * {@link #checkBalanced} runs are a {@link RefcountProblem#LEAK} listing every holder by name,
 * in the order they first took a reference, with the site of each get.
 *
 * <p>Cost: the caller passes the {@link Site} (no stack walk here unless the one-argument
 * overloads are used); the bookkeeping is an identity-map update under the ledger's monitor.
 *
 * <p>Locking: all state is guarded by {@code this}; reports are made outside it. Not a
 * scheduling point: the counter next to which it is called is one.
 *
 * <p>Differences from the kernel: {@code ref_tracker} hands out one tracker per reference;
 * here a holder may hold several, so two references of one holder are interchangeable
 * (a put drops the most recent).
 */
@HiddenFromSites
public final class RefLedger {

    private final Kernel kernel;
    private final String object;
    private final Map<RefHolder, Refs> outstanding = new IdentityHashMap<>();
    /** Per holder that has held references and holds none now: where its last one was put (the first put of a double put). */
    private final Map<RefHolder, Site> lastPut = new IdentityHashMap<>();
    private int count;
    private long nextOrder;

    /** One holder's outstanding references: their get sites, oldest first (as few objects as a deque). */
    private static final class Refs {
        final RefHolder holder;
        final long order;
        Site[] sites = new Site[2];
        int n;

        Refs(RefHolder holder, long order) {
            this.holder = holder;
            this.order = order;
        }

        void addLast(Site site) {
            if (n == sites.length) {
                sites = Arrays.copyOf(sites, 2 * n);
            }
            sites[n++] = site;
        }

        Site removeLast() {
            Site s = sites[--n];
            sites[n] = null;
            return s;
        }

        List<Site> snapshot() {
            return List.of(Arrays.copyOf(sites, n));
        }
    }

    /**
     * @param kernel the kernel failures are reported to
     * @param object the counted object's name and counter in reports, e.g. {@code "mm#1 mm_users"}
     */
    public RefLedger(Kernel kernel, String object) {
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.object = Objects.requireNonNull(object, "object");
    }

    /** The counted object's name in reports. */
    public String object() {
        return object;
    }

    /** Records that {@code holder} took a reference at {@code site}. Pairs with {@link #put}. */
    public synchronized void get(RefHolder holder, Site site) {
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(site, "site");
        add(holder, site);
    }

    /** {@link #get(RefHolder, Site)} at the current site (one stack walk). */
    public void get(RefHolder holder) {
        get(holder, kernel.site());
    }

    /**
     * Records that {@code holder} dropped its most recent reference at {@code site}. Reports
     * a put without a get (naming the holder, the site and the current holders) if
     * {@code holder} holds none; in a controlled run that report does not return.
     */
    public void put(RefHolder holder, Site site) {
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(site, "site");
        String holders;
        Site previous;
        synchronized (this) {
            if (take(holder) != null) {
                if (!outstanding.containsKey(holder)) {
                    lastPut.put(holder, site);
                }
                return;
            }
            holders = describeOutstanding();
            previous = lastPut.get(holder);
        }
        kernel.report(new Failure.RefcountError(object, RefcountProblem.PUT_WITHOUT_GET,
                "put by " + holder.name() + " at " + site + " without a matching get"
                        + (previous == null ? "" : "; its last reference was already put at " + previous)
                        + "; outstanding: " + holders, site));
    }

    /** {@link #put(RefHolder, Site)} at the current site (one stack walk). */
    public void put(RefHolder holder) {
        put(holder, kernel.site());
    }

    /**
     * Hands one reference of {@code from} (its most recent) to {@code to}, keeping the site
     * where it was taken: the reference is now dropped by {@code to}'s put, and rules that
     * ask who {@link #holds} it see {@code to}. Reports a put without a get (and moves
     * nothing) if {@code from} holds none.
     */
    public void transfer(RefHolder from, RefHolder to) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        String holders;
        synchronized (this) {
            Site site = take(from);
            if (site != null) {
                add(to, site);
                return;
            }
            holders = describeOutstanding();
        }
        Site here = kernel.site();
        kernel.report(new Failure.RefcountError(object, RefcountProblem.PUT_WITHOUT_GET,
                "transfer from " + from.name() + " to " + to.name() + " at " + here + ", but " + from.name()
                        + " holds no reference; outstanding: " + holders, here));
    }

    /** True if {@code holder} (this very holder, not one of the same name) has an outstanding reference. */
    public synchronized boolean holds(RefHolder holder) {
        return outstanding.containsKey(holder);
    }

    /** Outstanding references in total. */
    public synchronized int count() {
        return count;
    }

    /**
     * Each holder with the sites of its outstanding gets, oldest first, holders in the order
     * they first took a reference; a snapshot. Holders are the ledger's own (tasks and
     * handles compare by identity).
     */
    public synchronized Map<RefHolder, List<Site>> outstanding() {
        Map<RefHolder, List<Site>> m = new LinkedHashMap<>();
        for (Refs r : ordered()) {
            m.put(r.holder, r.snapshot());
        }
        return m;
    }

    /** The names of the holders with outstanding references, in {@link #outstanding} order, for reports. */
    public synchronized List<String> holderNames() {
        List<String> names = new ArrayList<>();
        for (Refs r : ordered()) {
            names.add(r.holder.name());
        }
        return names;
    }

    /**
     * Reports a {@link RefcountProblem#LEAK} listing every holder and get site if any
     * reference is outstanding. Call when the object should have no references left.
     */
    public void checkBalanced() {
        String holders;
        synchronized (this) {
            if (count == 0) {
                return;
            }
            holders = describeOutstanding();
        }
        kernel.report(new Failure.RefcountError(object, RefcountProblem.LEAK,
                count() + " reference(s) never put: " + holders, Sanitizer.detectionSite(kernel)));
    }

    /** Registers {@link #checkBalanced} to run when the run reaches quiescence. */
    public void checkBalancedAtQuiescence() {
        kernel.atQuiescence("refcount.leak", this::checkBalanced);
    }

    private void add(RefHolder holder, Site site) {
        Refs r = outstanding.get(holder);
        if (r == null) {
            r = new Refs(holder, nextOrder++);
            outstanding.put(holder, r);
        }
        r.addLast(site);
        count++;
    }

    private Site take(RefHolder holder) {
        Refs r = outstanding.get(holder);
        if (r == null) {
            return null;
        }
        Site s = r.removeLast();
        if (r.n == 0) {
            outstanding.remove(holder);
        }
        count--;
        return s;
    }

    /** The holders' entries in the order they first took a reference (reports only: sorts). */
    private List<Refs> ordered() {
        List<Refs> refs = new ArrayList<>(outstanding.values());
        refs.sort(Comparator.comparingLong(r -> r.order));
        return refs;
    }

    private String describeOutstanding() {
        if (outstanding.isEmpty()) {
            return "none";
        }
        List<String> parts = new ArrayList<>();
        for (Refs r : ordered()) {
            for (Site site : r.snapshot()) {
                parts.add(r.holder.name() + " (get at " + site + ")");
            }
        }
        return String.join(", ", parts);
    }

    @Override
    public synchronized String toString() {
        return object + " refs " + count + ": " + describeOutstanding();
    }
}
