package hmm4j.check.lifetime;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.RefHolder;
import hmm4j.sim.Task;
import java.util.Objects;

/**
 * An explicit holder of counted references, for an owner that is not a task: a device, a
 * notifier subscription, one rmap walk. The model's {@code ref_tracker} handle
 * ({@code lib/ref_tracker.c} {@code ref_tracker_alloc}/{@code ref_tracker_free}): the
 * owner makes one when it is created, passes it to every get and put, and a {@link RefLedger}
 * knows it by identity, so two handles with one name are two holders and a put with
 * another owner's handle is reported even when the names agree.
 *
 * <p>Overview: a handle is just an identity and a display name; it has no state and needs
 * no freeing. A task is a holder of its own ({@link Task} is a {@link RefHolder});
 * {@link #current} gives the holder of the calling context, and {@link #mainContext} the
 * one holder per kernel for set-up code outside any task.
 *
 * <p>Cost: built once per owner (or once per walk); {@link #current} costs a field read in
 * a task and a component look-up in set-up code. No stack walk.
 *
 * <p>Differences from the kernel: a kernel tracker stands for exactly one reference; a
 * handle may hold several (a ledger keeps them in the order taken), so two references of
 * one handle are interchangeable.
 */
@HiddenFromSites
public final class RefHandle implements RefHolder {

    private final String name;

    /** @param name the handle's name in reports, e.g. {@code "dmirror#1"}; need not be unique */
    public RefHandle(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    @Override
    public String name() {
        return name;
    }

    /** The holder of the calling context: the current task, or {@link #mainContext} outside any task. */
    public static RefHolder current(Kernel kernel) {
        Task t = kernel.current();
        return t != null ? t : mainContext(kernel);
    }

    /** The one holder per kernel for set-up code outside any task, named {@code <main>}. */
    public static RefHandle mainContext(Kernel kernel) {
        return kernel.component(MainContext.class, MainContext::new).handle;
    }

    /** The main context's handle, as a kernel component. */
    private static final class MainContext {
        final RefHandle handle = new RefHandle("<main>");
    }

    @Override
    public String toString() {
        return name;
    }
}
