package hmm4j.check.lockdep;

import hmm4j.check.CheckRules;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.LockInstance;
import hmm4j.sim.LockMode;
import hmm4j.sim.SyncObserver;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Lockdep for one {@link Kernel}: validates every lock acquisition of the kernel's tasks
 * against the lock-class dependency graph and reports a possible deadlock when the
 * acquisition closes a cycle, whether or not the run actually deadlocks. Also reports
 * sleeping calls in atomic context (and, under their own rule, in the no-sleep sections of
 * hmm4j's own rules, {@link Task.NoSleepSection}), releases of locks not held and tasks that exit holding
 * locks.
 *
 * <p>Overview: each task carries its held-lock stack in a {@link TaskKey} slot. On a
 * blocking acquisition of a lock of class {@code N}, for every held lock of class
 * {@code H != N}, from the top of the stack down, the dependency {@code H -> N} is added to
 * the {@link LockGraph} with its {@link DependencyKind} (how {@code H} is held, how
 * {@code N} is taken); if the graph already had a strong path {@code N -> ... -> H} the new
 * edge closes a cycle and a {@link Failure.LockOrderCycle} names the new dependency and the
 * existing chain, each with its site. Taking a class the task already holds is reported the
 * same way with {@code held == acquiring} (possible recursive locking), except a recursive
 * read ({@link LockMode#RECURSIVE_READ}) of a class held for read, as the kernel's
 * {@code check_deadlock} allows. A trylock cannot wait, so it is pushed on the stack but
 * adds no dependency; locks taken later while it is held do depend on it. A non-recursive
 * read ({@code down_read}) depends like an exclusive acquisition; a recursive read records
 * its dependencies too ({@code A -> map} when the map is read under {@code A}), and the
 * graph leaves out of cycles the paths where a lock is entered by a recursive read and
 * left as a reader.
 *
 * <p>The graph may be shared by the Lockdeps of several kernels ({@link #attach(Kernel,
 * LockGraph)}, {@link #attachTo(Kernel)}), so a cycle whose two halves happen in different
 * runs of an exploration is reported in the run that closes it. A cycle is reported once
 * per graph.
 *
 * <p>Locking: the observer methods run on the acting task's thread; a task's stack is
 * changed only by that task and read by others ({@link #heldLocks}) under the stack's
 * monitor. The graph synchronizes itself. Failures are reported outside every monitor,
 * because a report in a controlled run unwinds the reporting task.
 *
 * <p>Differences from the kernel: no irq-safe/irq-unsafe inversion checks (the model has no
 * interrupt context), no nesting subclasses, no cross-release; the held-lock stack is pushed
 * before the task waits for the lock, as {@code lock_acquire} is called before the lock is
 * taken. Set-up code outside any task is not validated. A task that exits holding a lock is
 * reported at quiescence (the kernel checks at {@code do_exit}).
 */
@HiddenFromSites
public final class Lockdep implements SyncObserver {

    private final Kernel kernel;
    private final LockGraph graph;
    private final int run;
    private final TaskKey<List<HeldLock>> heldKey = new TaskKey<>("lockdep held locks");
    private final Set<Task> seen = new LinkedHashSet<>();

    private Lockdep(Kernel kernel, LockGraph graph) {
        this.kernel = kernel;
        this.graph = graph;
        this.run = graph.beginRun();
    }

    /**
     * Attaches a Lockdep with a fresh graph to {@code kernel}. Call before the run starts.
     *
     * @throws IllegalStateException if the kernel already has a Lockdep
     */
    public static Lockdep attach(Kernel kernel) {
        return attach(kernel, new LockGraph());
    }

    /**
     * Attaches a Lockdep to {@code kernel} that records into (and checks against) the shared
     * {@code graph}: the kernel's sync observer, a kernel component and a quiescence check.
     * Call before the run starts.
     *
     * @throws IllegalStateException if the kernel already has a Lockdep
     */
    public static Lockdep attach(Kernel kernel, LockGraph graph) {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(graph, "graph");
        if (kernel.componentOrNull(Lockdep.class) != null) {
            throw new IllegalStateException("lockdep is already attached to this kernel");
        }
        Lockdep lockdep = new Lockdep(kernel, graph);
        kernel.component(Lockdep.class, () -> lockdep);
        kernel.setSyncObserver(lockdep);
        kernel.atQuiescence("lockdep.none-held-at-exit", lockdep::checkNoLocksHeldAtExit);
        return lockdep;
    }

    /** The Lockdep attached to {@code kernel}, or null. */
    public static Lockdep of(Kernel kernel) {
        return kernel.componentOrNull(Lockdep.class);
    }

    /** Attaches a new Lockdep to the next kernel of an exploration, sharing this one's graph. */
    public Lockdep attachTo(Kernel next) {
        return attach(next, graph);
    }

    /** The kernel this Lockdep reports to. */
    public Kernel kernel() {
        return kernel;
    }

    /** The dependency graph (possibly shared with other kernels' Lockdeps). */
    public LockGraph graph() {
        return graph;
    }

    /** This Lockdep's run number within its graph (1 for the first kernel attached). */
    public int run() {
        return run;
    }

    /** The locks {@code task} holds, bottom of the stack first; an immutable snapshot. */
    public List<HeldLock> heldLocks(Task task) {
        List<HeldLock> held = task.get(heldKey);
        if (held == null) {
            return List.of();
        }
        synchronized (held) {
            return List.copyOf(held);
        }
    }

    /** {@code lockdep_is_held}: true if {@code task} holds (or is acquiring) {@code lock}. */
    public boolean isHeld(Task task, LockInstance lock) {
        for (HeldLock h : heldLocks(task)) {
            if (h.lock() == lock) {
                return true;
            }
        }
        return false;
    }

    /**
     * Primes the graph as a boot-time initcall teaches lockdep an order (the kernel's
     * {@code dma_resv_lockdep} in drivers/dma-buf/dma-resv.c): records the dependencies of
     * taking {@code locks} one inside the other, in order, each in the mode at the same index,
     * with nothing else held. The current task's held locks play no part, so priming from
     * inside a driver's call adds nothing that driver holds. Each dependency's site is the
     * priming function {@code by}; one that closes a cycle is reported (a driver's order seen
     * before the priming).
     *
     * @param by    the priming function, e.g. {@code "dma_resv_lockdep"}
     * @param locks the locks, outermost first
     * @param modes how each is taken
     */
    public void prime(String by, List<? extends LockInstance> locks, List<LockMode> modes) {
        if (locks.size() != modes.size()) {
            throw new IllegalArgumentException("one mode per lock: " + locks.size() + " locks, " + modes.size() + " modes");
        }
        Site site = new Site(by, 0, List.of(by));
        List<HeldLock> held = new ArrayList<>(locks.size());
        List<Failure> found = new ArrayList<>();
        for (int j = 0; j < locks.size(); j++) {
            LockInstance lock = locks.get(j);
            HeldLock entry = new HeldLock(lock, lock.lockClass(), modes.get(j), false, site);
            for (int i = held.size() - 1; i >= 0; i--) {
                HeldLock h = held.get(i);
                if (h.lockClass().equals(entry.lockClass())) {
                    continue;
                }
                List<LockGraph.Dependency> existing = graph.add(h.lockClass(), entry.lockClass(),
                        DependencyKind.of(h.mode(), entry.mode()), site, 0, run, kernel.seed());
                if (existing != null) {
                    found.add(cycle(h, entry, existing));
                }
            }
            held.add(entry);
        }
        for (Failure f : found) {
            kernel.report(f);
        }
    }

    // ---- SyncObserver ----

    @Override
    public void acquire(Task task, LockInstance lock, LockMode mode, boolean trylock) {
        if (task == null) {
            return;
        }
        checkKernel(task);
        Site site = kernel.site();
        HeldLock entry = new HeldLock(lock, lock.lockClass(), mode, trylock, site);
        List<HeldLock> held = stack(task);
        int before;
        synchronized (held) {
            before = held.size();
            held.add(entry);
        }
        if (trylock) {
            return;
        }
        // Only this task changes its stack, so it reads its own entries below `before`
        // without the monitor and without a copy.
        List<Failure> found = null;
        LockClass acquiring = entry.lockClass();
        for (int i = before - 1; i >= 0; i--) {
            HeldLock h = held.get(i);
            Failure f;
            if (h.lockClass().equals(acquiring)) {
                f = !readRecursion(h, entry) && graph.markRecursionReported(acquiring)
                        ? recursion(h, entry, task.id()) : null;
            } else {
                List<LockGraph.Dependency> existing = graph.add(h.lockClass(), acquiring,
                        DependencyKind.of(h.mode(), entry.mode()), site, task.id(), run, kernel.seed());
                f = existing == null ? null : cycle(h, entry, existing);
            }
            if (f != null) {
                if (found == null) {
                    found = new ArrayList<>(1);
                }
                found.add(f);
            }
        }
        if (found != null) {
            for (Failure f : found) {
                kernel.report(f);
            }
        }
    }

    @Override
    public void release(Task task, LockInstance lock) {
        if (task == null) {
            return;
        }
        checkKernel(task);
        List<HeldLock> held = stack(task);
        synchronized (held) {
            int i = indexOfHeld(held, lock);
            if (i >= 0) {
                held.remove(i);
                return;
            }
        }
        kernel.report(new Failure.InvariantViolation(CheckRules.RELEASE_HELD,
                "lock release not held: " + task.name() + " releases " + describe(lock) + " which it does not hold; held: " + heldLocks(task),
                kernel.site()));
    }

    /** The most recent entry for {@code lock} in a held stack (caller holds its monitor), or -1. */
    private static int indexOfHeld(List<HeldLock> held, LockInstance lock) {
        for (int i = held.size() - 1; i >= 0; i--) {
            if (held.get(i).lock() == lock) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void changeMode(Task task, LockInstance lock, LockMode mode) {
        if (task == null) {
            return;
        }
        checkKernel(task);
        List<HeldLock> held = stack(task);
        synchronized (held) {
            int i = indexOfHeld(held, lock);
            if (i >= 0) {
                held.set(i, held.get(i).withMode(mode));
                return;
            }
        }
        kernel.report(new Failure.InvariantViolation(CheckRules.RELEASE_HELD,
                "lock mode change of a lock not held: " + task.name() + " changes " + describe(lock) + " to " + mode + " but does not hold it; held: "
                        + heldLocks(task), kernel.site()));
    }

    @Override
    public void mightSleep(Task task, String operation) {
        if (task == null) {
            return;
        }
        if (task.inAtomicContext()) {
            checkKernel(task);
            kernel.report(new Failure.SleepInAtomic(operation, atomicContext(task), kernel.site()));
            return;
        }
        Task.NoSleepSection section = task.noSleepSection();
        if (section != null) {
            checkKernel(task);
            kernel.report(new Failure.InvariantViolation(section.rule(),
                    section.what() + ": " + task.name() + " calls " + operation, kernel.site()));
        }
    }

    /**
     * The atomic context of a sleep-in-atomic report: what makes it atomic and, as the
     * kernel's {@code __might_resched} prints the held locks, each spinlock held with where it
     * was taken.
     */
    private String atomicContext(Task task) {
        StringBuilder sb = new StringBuilder(task.atomicContextDescription());
        String sep = ": ";
        for (HeldLock h : heldLocks(task)) {
            if (h.lock().spinning()) {
                sb.append(sep).append(h);
                sep = ", ";
            }
        }
        return sb.toString();
    }

    // ---- reports ----

    private Failure cycle(HeldLock held, HeldLock acquiring, List<LockGraph.Dependency> existing) {
        String from = held.lockClass().name();
        String to = acquiring.lockClass().name();
        List<String> newChain = List.of(
                from + " -> " + to + DependencyKind.of(held.mode(), acquiring.mode()).describe(from, to)
                        + " at " + acquiring.site(),
                "(holding " + held.describe() + " taken at " + held.site() + ", taking " + acquiring.describe() + ")");
        List<Failure.ChainEntry> existingChain = new ArrayList<>(existing.size());
        for (LockGraph.Dependency d : existing) {
            existingChain.add(d.link(run));
        }
        return new Failure.LockOrderCycle(held.lockClass().name(), acquiring.lockClass().name(), newChain,
                existingChain, acquiring.site());
    }

    private static Failure recursion(HeldLock held, HeldLock acquiring, int taskId) {
        List<String> newChain = List.of(acquiring.lockClass() + " -> " + acquiring.lockClass() + " at "
                + acquiring.site() + ": possible recursive locking of " + acquiring.describe()
                + HeldLock.describeMode(acquiring.mode(), " for read", " for recursive read"));
        List<Failure.ChainEntry> existingChain = List.of(new Failure.LockHeld(held.describe(),
                HeldLock.describeMode(held.mode(), " for read", " for recursive read"), taskId, held.site().task(),
                held.site()));
        return new Failure.LockOrderCycle(held.lockClass().name(), acquiring.lockClass().name(), newChain,
                existingChain, acquiring.site());
    }

    /** Reports, at the end of a run, every finished task that still holds a lock. */
    private void checkNoLocksHeldAtExit() {
        List<Task> tasks;
        synchronized (seen) {
            tasks = List.copyOf(seen);
        }
        for (Task t : tasks) {
            List<HeldLock> held = heldLocks(t);
            if (t.state() == Task.State.DONE && !held.isEmpty()) {
                kernel.report(new Failure.InvariantViolation(CheckRules.NONE_HELD_AT_EXIT,
                        t.name() + " exited holding " + held, held.get(held.size() - 1).site()));
            }
        }
    }

    // ---- helpers ----

    /**
     * True if taking {@code acquiring} while holding {@code held} of the same class is a
     * legal read recursion: a recursive read under any read ({@code check_deadlock}'s
     * "read-after-read recursion").
     */
    private static boolean readRecursion(HeldLock held, HeldLock acquiring) {
        return acquiring.mode() == LockMode.RECURSIVE_READ && held.mode().isRead();
    }

    private List<HeldLock> stack(Task task) {
        List<HeldLock> held = task.get(heldKey);
        if (held == null) {
            held = new ArrayList<>(4);
            task.set(heldKey, held);
            synchronized (seen) {
                seen.add(task);
            }
        }
        return held;
    }

    private void checkKernel(Task task) {
        if (task.kernel() != kernel) {
            throw new IllegalStateException("lockdep of kernel seed " + kernel.seed() + " called for task "
                    + task.name() + " of another kernel; attach one Lockdep per kernel");
        }
    }

    /** For reports: the lock's name, with its class when the two differ. */
    static String describe(LockInstance lock) {
        String cls = lock.lockClass().name();
        return lock.name().equals(cls) ? cls : lock.name() + " (class " + cls + ")";
    }
}
