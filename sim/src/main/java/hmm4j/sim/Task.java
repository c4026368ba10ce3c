package hmm4j.sim;

import hmm4j.sim.rule.Rule;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * A simulated task: a user task (with an mm, attached by the kernel model) or a kernel
 * thread. Tasks are numbered in creation order within their {@link Kernel}; the number is
 * what schedules and reports refer to.
 *
 * <p>Overview: the task also carries the atomic-context counters the kernel keeps in
 * {@code preempt_count} and friends, which the checkers read to decide whether a sleeping
 * call is legal: spinlocks held, RCU read-side depth and {@code non_block_start} sections.
 * Only the task itself changes them.
 *
 * <p>A task is a {@link RefHolder}: the references it takes are its own, known by the task's
 * identity (task names need not be unique).
 */
@HiddenFromSites
public final class Task implements RefHolder {

    /** What kind of task this is ({@code PF_KTHREAD} or not). */
    public enum Kind { USER, KTHREAD }

    /** Scheduling state, owned by the runtime. */
    public enum State { NEW, RUNNABLE, BLOCKED, DONE }

    private final Kernel kernel;
    private final int id;
    private final String name;
    private final Kind kind;
    private final boolean daemon;
    final TaskBody body;
    /** The task-local slots: a list of (key, value) cells, newest first (see {@link #get}). */
    private volatile Slot slots;

    // The operations on this task (their target is the task itself), each built once, on
    // first use: most tasks are never joined and never sleep. Immutable records, so a racy
    // first build at worst builds two equal ones.
    private final Op.Target target;
    private Op startOp;
    private Op spawnOp;
    private Op joinOp;
    private String joinSleepLabel;
    private String joinWaitReason;
    private Op exitOp;
    private Op sleepOp;
    private Op msleepOp;

    // Runtime-owned scheduling state (controlled runtime: touched only by the running task
    // or the runtime while this task is parked; native runtime: written by the runtime).
    volatile State state = State.NEW;
    volatile String blockedOn;
    /** The exception already reported by {@link Runtime#taskThrew}, so that the task's exit does not report it twice. */
    volatile Throwable reportedThrow;
    Thread thread;
    /** The task's continuation (a {@code jdk.internal.vm.Continuation}) when the runtime drives continuations. */
    Object continuation;
    WaitChannel exitChannel;
    long deadline = Long.MAX_VALUE;
    boolean timedOut;

    // Atomic-context counters, changed only by the task itself.
    private int spinDepth;
    private int rcuReadDepth;
    private int nonBlockDepth;
    private NoSleepSection noSleep;
    int suppressPoints;
    /** Work for the task's own exit path, in the order added; touched only by the task itself. */
    private ArrayDeque<Runnable> exitHooks;

    Task(Kernel kernel, int id, String name, Kind kind, boolean daemon, TaskBody body) {
        this.kernel = kernel;
        this.id = id;
        this.name = name;
        this.kind = kind;
        this.daemon = daemon;
        this.body = body;
        this.target = kernel.newTarget(name);
    }

    public Kernel kernel() { return kernel; }

    /** Creation number within the kernel, starting at 1. */
    public int id() { return id; }

    @Override
    public String name() { return name; }

    /** The task as the target of operations ({@code spawn}, {@code join}, {@code exit}, its {@code start}). */
    public Op.Target target() { return target; }

    /** The task's start: its pending operation from its creation to its first scheduling point. */
    public Op startOp() {
        Op op = startOp;
        return op != null ? op : (startOp = new Op(Op.Kind.START, target, "start"));
    }

    /** {@code spawn <name>}: a running task starting this one. */
    Op spawnOp() {
        Op op = spawnOp;
        return op != null ? op : (spawnOp = new Op(Op.Kind.SPAWN, target, "spawn " + name));
    }

    /** {@code join <name>}: a task waiting for this one to exit. */
    Op joinOp() {
        Op op = joinOp;
        return op != null ? op : (joinOp = new Op(Op.Kind.JOIN, target, "join " + name));
    }

    /** What a task joining this one reports if it may not sleep, and what it waits on: made once. */
    String joinSleepLabel() {
        String l = joinSleepLabel;
        return l != null ? l : (joinSleepLabel = "join(" + name + ")");
    }

    String joinWaitReason() {
        String r = joinWaitReason;
        return r != null ? r : (joinWaitReason = "join " + name + " waiting for " + name + " to exit");
    }

    /** {@code exit <name>}: this task's body returned. */
    Op exitOp() {
        Op op = exitOp;
        return op != null ? op : (exitOp = new Op(Op.Kind.EXIT, target, "exit " + name));
    }

    /** {@code sleep <name>}: this task going to sleep on the virtual clock. */
    Op sleepOp() {
        Op op = sleepOp;
        return op != null ? op : (sleepOp = new Op(Op.Kind.SLEEP, target, "sleep " + name));
    }

    /** {@code msleep}: the scheduling point before this task sleeps. */
    Op msleepOp() {
        Op op = msleepOp;
        return op != null ? op : (msleepOp = new Op(Op.Kind.MSLEEP, target, "msleep"));
    }

    public Kind kind() { return kind; }

    /** True for {@code PF_KTHREAD} tasks. */
    public boolean isKthread() { return kind == Kind.KTHREAD; }

    /** A daemon task (e.g. an SRCU callback thread) does not keep a run alive. */
    public boolean isDaemon() { return daemon; }

    public State state() { return state; }

    /** What the task is blocked on, when {@link #state()} is BLOCKED. */
    public String blockedOn() { return blockedOn; }

    /**
     * One task-local slot: its key and its current value. A key's cell, once added, stays in
     * the list (clearing a slot writes null), so a lookup is a scan of a few cells with no lock,
     * and a write after the first is one volatile write.
     */
    private static final class Slot {
        final TaskKey<?> key;
        final Slot next;
        volatile Object value;

        Slot(TaskKey<?> key, Object value, Slot next) {
            this.key = key;
            this.value = value;
            this.next = next;
        }
    }

    private static final VarHandle SLOTS;

    static {
        try {
            SLOTS = MethodHandles.lookup().findVarHandle(Task.class, "slots", Slot.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Slot find(TaskKey<?> key) {
        for (Slot s = slots; s != null; s = s.next) {
            if (s.key == key) {
                return s;
            }
        }
        return null;
    }

    /**
     * Reads a slot; null when unset. Takes no lock and allocates nothing: any task (or, in
     * the native runtime, any thread) may read another task's slot and sees its latest write.
     */
    @SuppressWarnings("unchecked")
    public <T> T get(TaskKey<T> key) {
        Slot s = find(key);
        return s == null ? null : (T) s.value;
    }

    /**
     * Sets a slot (null clears it). Lock-free: the first write of a key adds its cell with a
     * compare-and-set of the list's head (retried, with a new look for the key, when another
     * thread added a cell meanwhile); later writes are a volatile write of the cell.
     */
    public <T> void set(TaskKey<T> key, T value) {
        while (true) {
            Slot head = slots;
            for (Slot s = head; s != null; s = s.next) {
                if (s.key == key) {
                    s.value = value;
                    return;
                }
            }
            if (value == null) {
                return;
            }
            if (SLOTS.compareAndSet(this, head, new Slot(key, value, head))) {
                return;
            }
        }
    }

    /** Blocks until this task has finished. A scheduling point; may sleep. */
    public void join() {
        kernel.runtime().joinTask(this);
    }

    // --- atomic context (preempt_count and friends) ---

    /** Spinlocks currently held (preemption disabled). */
    public int spinDepth() { return spinDepth; }

    /** RCU read-side critical sections currently open (sleeping illegal). */
    public int rcuReadDepth() { return rcuReadDepth; }

    /** {@code non_block_start} sections currently open (sleeping illegal). */
    public int nonBlockDepth() { return nonBlockDepth; }

    /** True when a sleeping call would be a bug. */
    public boolean inAtomicContext() {
        return spinDepth > 0 || rcuReadDepth > 0 || nonBlockDepth > 0;
    }

    /** Describes the atomic context for reports, e.g. "spinlock held". */
    public String atomicContextDescription() {
        if (spinDepth > 0) return "atomic context (spinlock held)";
        if (rcuReadDepth > 0) return "RCU read-side critical section";
        if (nonBlockDepth > 0) return "non-blocking section (non_block_start)";
        return "process context";
    }

    public void spinEnter() { spinDepth++; }

    public void spinExit() { spinDepth--; }

    public void rcuReadEnter() { rcuReadDepth++; }

    public void rcuReadExit() { rcuReadDepth--; }

    /** Kernel {@code non_block_start()}: sleeping is illegal until {@link #nonBlockEnd()}. */
    public void nonBlockStart() { nonBlockDepth++; }

    /** Kernel {@code non_block_end()}. */
    public void nonBlockEnd() { nonBlockDepth--; }

    /**
     * Runs {@code hook} in this task when its body has returned, before the task is done
     * (its own exit path: for the kernel model, the parts of {@code do_exit} that belong to a
     * layer above the substrate). Hooks run in the order added and may add more; they do not
     * run when the body threw or the run was aborted. Only the task itself may add one.
     */
    public void atExit(Runnable hook) {
        Objects.requireNonNull(hook, "hook");
        if (exitHooks == null) {
            exitHooks = new ArrayDeque<>();
        }
        exitHooks.add(hook);
    }

    /** Runs the {@link #atExit} hooks; called by the runtime in the task, after its body returned. */
    void runExitHooks() {
        while (exitHooks != null && !exitHooks.isEmpty()) {
            exitHooks.poll().run();
        }
    }

    /**
     * A section in which a rule of hmm4j's own, not the kernel's {@code might_sleep}, forbids
     * sleeping: a sleeping call inside it is reported under {@code rule}, with {@code what}
     * naming the section, where the kernel prints nothing. Sections nest; {@code outer} is the
     * enclosing one.
     */
    public record NoSleepSection(Rule rule, String what, NoSleepSection outer) {
    }

    /** Opens a {@link NoSleepSection}; pairs with {@link #noSleepEnd()}. */
    public void noSleepStart(Rule rule, String what) { noSleep = new NoSleepSection(rule, what, noSleep); }

    /** Closes the innermost {@link NoSleepSection}. */
    public void noSleepEnd() { noSleep = noSleep.outer(); }

    /** The innermost open {@link NoSleepSection}, or null. */
    public NoSleepSection noSleepSection() { return noSleep; }

    @Override
    public String toString() {
        return name;
    }
}
