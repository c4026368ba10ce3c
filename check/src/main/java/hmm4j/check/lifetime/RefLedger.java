package hmm4j.check.lifetime;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
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
 * <p>Overview: a holder is a plain name chosen by the model ({@code "dmirror#1"},
 * {@code "kthread_use_mm(worker)"}); it may hold several references, kept in the order
 * taken, and a put drops its most recent one. A put (or {@link #transfer}) by a holder with
 * no outstanding reference is a {@link RefcountProblem#PUT_WITHOUT_GET}; references still
 * outstanding when {@link #checkBalanced} runs are a {@link RefcountProblem#LEAK} listing
 * every holder and the site of each get.
 *
 * <p>Cost: the caller passes the {@link Site} (no stack walk here unless the one-argument
 * overloads are used); the bookkeeping is a map update under the ledger's monitor.
 *
 * <p>Locking: all state is guarded by {@code this}; reports are made outside it. Not a
 * scheduling point: the counter next to which it is called is one.
 *
 * <p>Differences from the kernel: {@code ref_tracker} hands out a tracker handle per
 * reference; here the holder's name is the handle, so two references of one holder are
 * interchangeable.
 */
@HiddenFromSites
public final class RefLedger {

    private final Kernel kernel;
    private final String object;
    private final Map<String, Deque<Site>> outstanding = new LinkedHashMap<>();
    private int count;

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
    public synchronized void get(String holder, Site site) {
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(site, "site");
        outstanding.computeIfAbsent(holder, h -> new ArrayDeque<>(2)).addLast(site);
        count++;
    }

    /** {@link #get(String, Site)} at the current site (one stack walk). */
    public void get(String holder) {
        get(holder, kernel.site());
    }

    /**
     * Records that {@code holder} dropped its most recent reference at {@code site}. Reports
     * a put without a get (naming the holder, the site and the current holders) if
     * {@code holder} holds none; in a controlled run that report does not return.
     */
    public void put(String holder, Site site) {
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(site, "site");
        String holders;
        synchronized (this) {
            if (take(holder) != null) {
                return;
            }
            holders = describeOutstanding();
        }
        kernel.report(new Failure.RefcountError(object, RefcountProblem.PUT_WITHOUT_GET,
                "put by " + holder + " at " + site + " without a matching get; outstanding: " + holders, site));
    }

    /** {@link #put(String, Site)} at the current site (one stack walk). */
    public void put(String holder) {
        put(holder, kernel.site());
    }

    /**
     * Hands one reference of {@code from} (its most recent) to {@code to}, keeping the site
     * where it was taken: the reference is now dropped by {@code to}'s put. Reports a put
     * without a get if {@code from} holds none.
     */
    public void transfer(String from, String to) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        String holders;
        synchronized (this) {
            Site site = take(from);
            if (site != null) {
                outstanding.computeIfAbsent(to, h -> new ArrayDeque<>(2)).addLast(site);
                count++;
                return;
            }
            holders = describeOutstanding();
        }
        Site here = kernel.site();
        kernel.report(new Failure.RefcountError(object, RefcountProblem.PUT_WITHOUT_GET,
                "transfer from " + from + " to " + to + " at " + here + ", but " + from
                        + " holds no reference; outstanding: " + holders, here));
    }

    /** True if {@code holder} has at least one outstanding reference. */
    public synchronized boolean holds(String holder) {
        return outstanding.containsKey(holder);
    }

    /** Outstanding references in total. */
    public synchronized int count() {
        return count;
    }

    /** Each holder with the sites of its outstanding gets, oldest first; a snapshot. */
    public synchronized Map<String, List<Site>> outstanding() {
        Map<String, List<Site>> m = new LinkedHashMap<>();
        outstanding.forEach((h, sites) -> m.put(h, List.copyOf(sites)));
        return m;
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
        kernel.atQuiescence(this::checkBalanced);
    }

    private Site take(String holder) {
        Deque<Site> sites = outstanding.get(holder);
        if (sites == null) {
            return null;
        }
        Site s = sites.removeLast();
        if (sites.isEmpty()) {
            outstanding.remove(holder);
        }
        count--;
        return s;
    }

    private String describeOutstanding() {
        if (outstanding.isEmpty()) {
            return "none";
        }
        List<String> parts = new ArrayList<>();
        outstanding.forEach((h, sites) -> sites.forEach(s -> parts.add(h + " (get at " + s + ")")));
        return String.join(", ", parts);
    }

    @Override
    public synchronized String toString() {
        return object + " refs " + count + ": " + describeOutstanding();
    }
}
