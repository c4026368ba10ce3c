package hmm4j.check.lifetime;

import hmm4j.check.CheckRules;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Base class of model objects with a kernel lifetime ({@code mm_struct}, notifier
 * subscriptions, driver objects): allocated when constructed, poisoned by {@link #kfree},
 * and checked by every accessor of the subclass through {@link #checkAccess}.
 *
 * <p>Overview: the object records its allocation {@link Site} when constructed and its free
 * site when freed; the state goes {@link State#LIVE} to {@link State#FREED} once and never
 * back. An access to a freed object is reported as {@link Failure.UseAfterFree} with the
 * access, allocation and free sites (each names its task), as KASAN reports a slab
 * use-after-free; a second free is reported the same way with the access
 * {@code "kfree (double-free)"}. Every object registers with its kernel's
 * {@link Sanitizer}, which counts live objects by type and reports the ones marked with
 * {@link #expectFreedAtQuiescence} that are still live when the run ends.
 *
 * <p>Locking: the free site is an atomic reference, so two racing frees are told apart and
 * exactly one of them is the double free. {@link #kfree} is a scheduling point (the free
 * is a shared-state change other tasks can race with); {@link #checkAccess} is not, since
 * the accessors that call it reach their own points through the cells and locks they use.
 *
 * <p>Differences from the kernel: the memory is not reused, so a stale access is always
 * caught (KASAN catches it only while the object sits in quarantine); the check is per
 * accessor call, not per byte.
 */
@HiddenFromSites
public abstract class KObject {
    private static final Op.Kind KFREE = new Op.Kind("kfree", Op.Access.WRITE);

    /** The lifecycle of an allocation. */
    public enum State {
        /** Allocated and not yet freed. */
        LIVE,
        /** Freed; any access is a use-after-free. */
        FREED
    }

    private final Kernel kernel;
    private final String name;
    private final Op.Target target;
    private final Site allocSite;
    private final AtomicReference<Site> freeSite = new AtomicReference<>();
    private volatile boolean expectFreed;

    /**
     * Allocates the object: records the allocation site (the current task, or
     * {@code <main>} in set-up code) and registers it with the kernel's {@link Sanitizer}.
     *
     * @param kernel the kernel whose lifetime checks this object belongs to
     * @param name   the object's name in reports, e.g. {@code "mm#1"}
     */
    // The sanitizer only files the reference and its class; it calls no subclass method.
    @SuppressWarnings("this-escape")
    protected KObject(Kernel kernel, String name) {
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.name = Objects.requireNonNull(name, "name");
        this.target = kernel.newTarget(name);
        this.allocSite = kernel.site();
        Sanitizer.of(kernel).allocated(this);
    }

    /** The object's name in reports. */
    public final String name() {
        return name;
    }

    /**
     * The object as the target of scheduling-point operations: its {@code kfree}, and the
     * operations of subclasses on the whole object (an mm's {@code copy_from_user}).
     */
    public final Op.Target target() {
        return target;
    }

    /** The kernel this object lives in. */
    public final Kernel kernel() {
        return kernel;
    }

    /** Where the object was allocated. */
    public final Site allocSite() {
        return allocSite;
    }

    /** Where the object was freed, or null while it is live. */
    public final Site freeSite() {
        return freeSite.get();
    }

    /** The object's lifecycle state. */
    public final State state() {
        return freeSite.get() == null ? State.LIVE : State.FREED;
    }

    /** True once {@link #kfree} has run. */
    public final boolean isFreed() {
        return freeSite.get() != null;
    }

    /**
     * {@code kfree}: frees (poisons) the object. A scheduling point; does not sleep. Freeing
     * an already freed object reports a double free (a use-after-free with access
     * {@code "kfree (double-free)"}) and changes nothing. The caller must hold the last
     * reference; the subclass's own teardown runs before this call.
     */
    public final void kfree() {
        // Built here rather than with the object: an object is freed once (twice is the bug).
        kernel.point(Op.of(KFREE, target));
        Site site = kernel.site();
        Site first = freeSite.compareAndExchange(null, site);
        if (first != null) {
            kernel.report(new Failure.UseAfterFree(name, "kfree (double-free)", allocSite, first, site, CheckRules.DOUBLE_FREE));
            return;
        }
        Sanitizer.of(kernel).freed(this);
    }

    /**
     * Asserts the object is live before {@code access}; called first by every accessor of a
     * subclass. Reports a use-after-free naming the access, allocation and free sites if it
     * is freed (in a controlled run the report unwinds the calling task and does not return).
     * Not a scheduling point.
     *
     * @param access what is being done, e.g. {@code "mmget"} or {@code "read mm->pgd"}
     */
    public final void checkAccess(String access) {
        Site freed = freeSite.get();
        if (freed != null) {
            kernel.report(new Failure.UseAfterFree(name, access, allocSite, freed, kernel.site()));
        }
    }

    /**
     * {@link #checkAccess(String)} with the access named {@code access + " of " + of}, the
     * text built only when a use-after-free is reported (for hot paths).
     */
    public final void checkAccess(String access, Object of) {
        Site freed = freeSite.get();
        if (freed != null) {
            kernel.report(new Failure.UseAfterFree(name, access + " of " + of, allocSite, freed, kernel.site()));
        }
    }

    /**
     * Marks the object as one that must be freed by the end of the run: if it is still live
     * at quiescence, the {@link Sanitizer} reports it as leaked.
     */
    public final void expectFreedAtQuiescence() {
        expectFreed = true;
    }

    /** True if {@link #expectFreedAtQuiescence} was called. */
    public final boolean expectedFreedAtQuiescence() {
        return expectFreed;
    }

    @Override
    public String toString() {
        return name + (isFreed() ? " (freed)" : "");
    }
}
