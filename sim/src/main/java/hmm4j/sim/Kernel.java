package hmm4j.sim;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One simulated machine: its runtime, virtual clock, seeded randomness, trace and the state
 * of its checkers. There is no mutable static state anywhere in hmm4j, so any number of
 * kernels run at once in one JVM.
 *
 * <p>Overview: a kernel is built once ({@link #controlled}, {@link #nativeRuntime} or the
 * {@link Builder}), gets tasks ({@link #spawnUser}, {@link #spawnKthread}), and is
 * {@link #run} once. Layers above attach their per-machine state as <em>components</em>
 * keyed by type ({@link #component(Class, Supplier)}) instead of growing this class:
 * physical memory, the lifetime sanitizer and lockdep live there. Checks that must hold
 * once every task is done (leaks, balanced references) register with {@link #atQuiescence}.
 *
 * <p>Failures go through {@link #report}: in the controlled runtime the first one stops
 * the run; in the native runtime they are collected.
 */
@HiddenFromSites
public final class Kernel {

    /** Default bound on scheduling decisions per controlled run. */
    public static final long DEFAULT_MAX_STEPS = 200_000;
    /** Default bound on virtual time per controlled run: one virtual hour. */
    public static final long DEFAULT_MAX_VIRTUAL_NANOS = 3_600_000_000_000L;
    /** Default wall-clock bound per run. */
    public static final long DEFAULT_WALL_TIMEOUT_MILLIS = 20_000;
    /** Default bound on live tasks (started, not exited) per controlled run. */
    public static final int DEFAULT_MAX_TASKS = 1_000;
    /** Default bound on the memory of a controlled run's decision record: 64 MiB. */
    public static final long DEFAULT_MAX_DECISION_BYTES = 64L << 20;
    /** Default bound on the time a task may wait outside the model (continuation runtime). */
    public static final long DEFAULT_BLOCKED_MILLIS = 2_000;

    private final long seed;
    private final SplittableRandom random;
    private final Runtime runtime;
    private final Trace trace;
    private final boolean sites;
    private final boolean siteFrames;
    /** The last site made without frames (immutable; read and written racily, a value either way). */
    private Site lastBareSite;
    /**
     * The components, read without a lock: types at even indices, each followed by its
     * component; a new array replaces it (under this kernel's monitor) when one is added,
     * which happens during set-up. A machine has a handful, so a scan by identity is the
     * cheapest lookup.
     */
    private volatile Object[] components = new Object[0];
    private final List<Validator> quiescenceChecks = new ArrayList<>();
    private final List<Failure> lateFailures = new ArrayList<>();
    private final MarkTable marks = new MarkTable();
    private volatile SyncObserver syncObserver = SyncObserver.NONE;
    private int nextTaskId = 1;
    /** The last number given to an operation target ({@link #newTarget}). */
    private final AtomicInteger lastTargetId = new AtomicInteger();
    /** The operation of a run's first decision, {@code start}; its target is the machine itself. */
    final Op startOp;
    private boolean ran;
    private volatile boolean quiescent;

    private Kernel(Builder b) {
        this.seed = b.seed;
        this.random = new SplittableRandom(b.seed);
        this.trace = new Trace(b.trace);
        this.sites = b.sites;
        this.siteFrames = b.siteFrames;
        this.runtime = b.controlled
                ? new ControlledRuntime(this, b.strategy != null ? b.strategy : new RandomWalkStrategy(b.seed),
                        b.maxSteps, b.maxVirtualNanos, b.wallTimeoutMillis,
                        new RunBounds(b.maxTasks, b.maxDecisionBytes, b.blockedMillis))
                : new NativeRuntime(this, b.wallTimeoutMillis);
        this.startOp = new Op(Op.Kind.START, newTarget("machine"), "start");
    }

    /** A controlled kernel scheduled by a seeded random walk. */
    public static Kernel controlled(long seed) {
        return builder().seed(seed).build();
    }

    /** A native kernel (real threads). */
    public static Kernel nativeRuntime() {
        return builder().nativeRuntime().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configuration of a kernel; controlled with a random walk from seed 0 by default. */
    public static final class Builder {
        private long seed;
        private boolean controlled = true;
        private Strategy strategy;
        private long maxSteps = DEFAULT_MAX_STEPS;
        private long maxVirtualNanos = DEFAULT_MAX_VIRTUAL_NANOS;
        // The bounds' defaults can be set for a whole JVM by system properties (an
        // exploration builds its kernels itself): hmm4j.wallTimeoutMillis, hmm4j.maxTasks,
        // hmm4j.maxDecisionBytes, hmm4j.blockedMillis.
        private long wallTimeoutMillis = positive("hmm4j.wallTimeoutMillis", DEFAULT_WALL_TIMEOUT_MILLIS);
        private int maxTasks = (int) Math.min(Integer.MAX_VALUE, positive("hmm4j.maxTasks", DEFAULT_MAX_TASKS));
        private long maxDecisionBytes = positive("hmm4j.maxDecisionBytes", DEFAULT_MAX_DECISION_BYTES);
        private long blockedMillis = positive("hmm4j.blockedMillis", DEFAULT_BLOCKED_MILLIS);
        private boolean trace = true;
        private boolean sites = true;
        private boolean siteFrames = true;

        private Builder() {
        }

        /** The system property {@code name} when it is a positive number, else {@code otherwise}. */
        private static long positive(String name, long otherwise) {
            Long v = Long.getLong(name);
            return v != null && v > 0 ? v : otherwise;
        }

        /** The seed of the kernel's randomness (and of the default strategy). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Controlled runtime with the given strategy. */
        public Builder strategy(Strategy strategy) {
            this.controlled = true;
            this.strategy = Objects.requireNonNull(strategy);
            return this;
        }

        /** Native runtime: real threads. */
        public Builder nativeRuntime() {
            this.controlled = false;
            return this;
        }

        public Builder maxSteps(long maxSteps) {
            if (maxSteps <= 0) throw new IllegalArgumentException("maxSteps must be positive");
            this.maxSteps = maxSteps;
            return this;
        }

        public Builder maxVirtualNanos(long nanos) {
            if (nanos <= 0) throw new IllegalArgumentException("maxVirtualNanos must be positive");
            this.maxVirtualNanos = nanos;
            return this;
        }

        public Builder wallTimeoutMillis(long millis) {
            if (millis <= 0) throw new IllegalArgumentException("wallTimeoutMillis must be positive");
            this.wallTimeoutMillis = millis;
            return this;
        }

        /** Live tasks (started, not exited) allowed at once; more is a reported bound (a spawn bomb). */
        public Builder maxTasks(int maxTasks) {
            if (maxTasks <= 0) throw new IllegalArgumentException("maxTasks must be positive");
            this.maxTasks = maxTasks;
            return this;
        }

        /** Bytes the run's decision record may hold; more is a reported bound, never OutOfMemoryError. */
        public Builder maxDecisionBytes(long bytes) {
            if (bytes <= 0) throw new IllegalArgumentException("maxDecisionBytes must be positive");
            this.maxDecisionBytes = bytes;
            return this;
        }

        /**
         * Wall-clock time a task may wait outside the model (a real {@code Thread.sleep},
         * {@code Object.wait}, lock or I/O) before the run is reported; capped by the
         * wall-clock bound. Seen by the continuation runtime's watchdog.
         */
        public Builder blockedMillis(long millis) {
            if (millis <= 0) throw new IllegalArgumentException("blockedMillis must be positive");
            this.blockedMillis = millis;
            return this;
        }

        /** Whether to record the trace (default true). */
        public Builder trace(boolean trace) {
            this.trace = trace;
            return this;
        }

        /**
         * Whether trace events carry code sites ({@link TraceEvent#where()}; default true). A
         * site costs one stack walk per step, formatted only if read; without sites the
         * trace events have an empty {@code where}. Sites of failures and of the checkers'
         * records ({@link Kernel#site()}) are captured either way.
         */
        public Builder sites(boolean sites) {
            this.sites = sites;
            return this;
        }

        /**
         * Whether {@link Kernel#site()} records code frames (default true). Without them a
         * site is the acting task and the step only, and costs no stack capture: for runs
         * whose sites are never shown, such as an exploration's runs, whose failing run is
         * replayed with frames for its report (a controlled run is a function of its
         * schedule, so the replay reaches the same sites). Failures found by the runtime
         * itself (deadlock, bounds) keep their frames either way.
         */
        public Builder siteFrames(boolean siteFrames) {
            this.siteFrames = siteFrames;
            return this;
        }

        public Kernel build() {
            return new Kernel(this);
        }
    }

    // ---- identity and services ----

    public long seed() { return seed; }

    /** The kernel's seeded randomness, for model-level choices (never for scheduling). */
    public SplittableRandom random() { return random; }

    public Runtime runtime() { return runtime; }

    public Trace trace() { return trace; }

    /**
     * Labels what the calling task is doing for the reports that draw pictures (the HTML
     * timeline, the Perfetto trace): {@code text} is attached to the task's last trace event
     * ({@link TraceEvent#notes()}). Not a scheduling point and not a decision; nothing in the
     * text report, the failure file or a replay depends on it. A no-op when the trace is off
     * or outside a task.
     */
    public void note(String text) {
        if (!trace.enabled()) {
            return;
        }
        Task t = current();
        if (t != null) {
            trace.note(t.id(), text);
        }
    }

    boolean sitesEnabled() { return sites; }

    /** The task running on the calling thread, or null. */
    public Task current() { return runtime.current(); }

    /** The checkers' hook into the primitives. */
    public SyncObserver syncObserver() { return syncObserver; }

    /** Installs the checkers' hook (before the run starts). */
    public void setSyncObserver(SyncObserver observer) {
        this.syncObserver = Objects.requireNonNull(observer);
    }

    /** A scheduling point before {@code op} (no-op in the native runtime). */
    public void point(Op op) {
        runtime.point(op);
    }

    /**
     * A new object for operations to act on ({@link Op.Target}), numbered in creation order
     * within this kernel, so that the same seed gives the same numbers. {@code label} is for
     * printing only: two targets with the same label are still different objects. A
     * primitive takes one when it is created and builds its operations from it once.
     */
    public Op.Target newTarget(String label) {
        return new Op.Target(lastTargetId.incrementAndGet(), label);
    }

    /**
     * The number of a target made later, as {@code new Op.Target(id, label)}: for an object
     * made in large numbers whose operations are rarely reached (a page), so that it takes its
     * number in creation order, as {@link #newTarget} would give it, without building the
     * target and its label until first used.
     */
    public int newTargetId() {
        return lastTargetId.incrementAndGet();
    }

    /**
     * Records that this run took the branch of {@code mark} (a coverage mark, see
     * {@link Mark}). Not a scheduling point; no allocation or lock after the mark's first hit
     * in this kernel; the same in both runtimes.
     */
    public void mark(Mark mark) {
        marks.hit(mark);
    }

    /** The marks hit so far, ordered by id. */
    public List<Mark> marksHit() {
        return marks.snapshot();
    }

    /**
     * The component of this type, created with {@code factory} on first use. Finding an
     * existing component takes no lock and allocates nothing.
     */
    public <T> T component(Class<T> type, Supplier<? extends T> factory) {
        Object c = findComponent(type);
        if (c == null) {
            c = addComponent(type, factory);
        }
        return type.cast(c);
    }

    private Object findComponent(Class<?> type) {
        Object[] cs = components;
        for (int i = 0; i < cs.length; i += 2) {
            if (cs[i] == type) {
                return cs[i + 1];
            }
        }
        return null;
    }

    private synchronized Object addComponent(Class<?> type, Supplier<?> factory) {
        Object c = findComponent(type);
        if (c == null) {
            c = Objects.requireNonNull(factory.get());
            // The factory may have added components of its own: extend the current array.
            Object[] cs = components;
            Object[] next = Arrays.copyOf(cs, cs.length + 2);
            next[cs.length] = type;
            next[cs.length + 1] = c;
            components = next;
        }
        return c;
    }

    /** The component of this type, or null when none was created. Takes no lock. */
    public <T> T componentOrNull(Class<T> type) {
        return type.cast(findComponent(type));
    }

    /** A named check of the end of a run. */
    private record Validator(String name, Runnable check) {
    }

    /**
     * Registers a check run after every task is done (leaks, balanced references, a model's
     * whole-state validator), in registration order. {@code name} says what it validates,
     * the id of the rule it enforces where there is one ({@code "mem.leak"}); the run's result
     * lists the names of the checks that ran ({@link RunResult#validators()}), so a clean
     * report says what was checked, not only that nothing was found.
     */
    public synchronized void atQuiescence(String name, Runnable check) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(check, "check");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a quiescence check needs a name");
        }
        quiescenceChecks.add(new Validator(name, check));
    }

    /** True while the quiescence checks run (no task is running any more). */
    public boolean quiescent() {
        return quiescent;
    }

    // ---- tasks ----

    /** A user task (not {@code PF_KTHREAD}); the kernel model attaches its mm via {@code init}. */
    public Task spawnUser(String name, TaskBody body) {
        return spawn(name, Task.Kind.USER, false, body, null);
    }

    /** A user task whose slots are set by {@code init} before it can run. */
    public Task spawnUser(String name, TaskBody body, java.util.function.Consumer<Task> init) {
        return spawn(name, Task.Kind.USER, false, body, init);
    }

    /** A kernel thread ({@code PF_KTHREAD}, no mm). */
    public Task spawnKthread(String name, TaskBody body) {
        return spawn(name, Task.Kind.KTHREAD, false, body, null);
    }

    /** A kernel thread whose slots (or the caller's bookkeeping) are set by {@code init} before it can run. */
    public Task spawnKthread(String name, TaskBody body, java.util.function.Consumer<Task> init) {
        return spawn(name, Task.Kind.KTHREAD, false, body, init);
    }

    /** A kernel thread that does not keep the run alive (callback and worker threads). */
    public Task spawnDaemon(String name, TaskBody body) {
        return spawn(name, Task.Kind.KTHREAD, true, body, null);
    }

    private Task spawn(String name, Task.Kind kind, boolean daemon, TaskBody body,
                       java.util.function.Consumer<Task> init) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(body, "body");
        Task t;
        synchronized (this) {
            if (ran && !runtime.isControlled() && current() == null) {
                throw new IllegalStateException("this kernel has already run");
            }
            t = new Task(this, nextTaskId++, name, kind, daemon, body);
        }
        if (init != null) {
            init.accept(t);
        }
        runtime.start(t);
        if (current() != null) {
            runtime.point(t.spawnOp());
        }
        return t;
    }

    /**
     * How a controlled run started now drives its tasks: {@code "continuations"}, or
     * {@code "virtual threads"} with the reason (the JVM does not export
     * {@code jdk.internal.vm}, or {@code hmm4j.runtime=threads}); for benchmarks, whose
     * figures mean nothing without it.
     */
    public static String runtimeMode() {
        if (Continuations.chosen()) {
            return "continuations";
        }
        return "virtual threads (" + (Continuations.AVAILABLE ? "hmm4j.runtime=threads" : Continuations.UNAVAILABLE_REASON
                + "; run with --add-exports java.base/jdk.internal.vm=ALL-UNNAMED") + ")";
    }

    /** A controlled run's failed result as {@link #run} returns it: with the marks reached. */
    RunResult failedResult(RunResult r) {
        return r.withMarks(marks.snapshot());
    }

    /**
     * Runs all tasks until they finish (or the run stops), then the quiescence checks.
     * A kernel runs once.
     */
    public RunResult run() {
        synchronized (this) {
            if (ran) {
                throw new IllegalStateException("a kernel runs once");
            }
            ran = true;
        }
        RunResult r;
        if (runtime instanceof ControlledRuntime c) {
            JvmExits.started(c);
            try {
                r = c.run();
            } finally {
                JvmExits.ended(c);
            }
        } else {
            r = runtime.run();
        }
        if (!r.clean() && runtime.isControlled()) {
            return failedResult(r);
        }
        quiescent = true;
        List<Validator> checks;
        synchronized (this) {
            checks = List.copyOf(quiescenceChecks);
        }
        List<String> ran = new ArrayList<>();
        for (Validator v : checks) {
            if (!ran.contains(v.name())) {
                ran.add(v.name());
            }
            v.check().run();
            if (runtime.isControlled() && !lateFailures.isEmpty()) {
                break;
            }
        }
        if (lateFailures.isEmpty()) {
            return r.withEnd(marks.snapshot(), ran);
        }
        List<Failure> all = new ArrayList<>(r.failures());
        all.addAll(lateFailures);
        return new RunResult(r.seed(), r.strategy(), all, r.steps(), r.virtualNanos(), r.decisions(),
                r.trace(), r.divergence(), r.taskNames(), marks.snapshot(), ran);
    }

    // ---- failures and sites ----

    /**
     * Reports {@code e}, thrown by the body of the calling task, as that task's failure now,
     * for code that wraps a task's body with a cleanup (a process's {@code exit_mm}) and must
     * not let the cleanup run first: a cleanup that blocks on a lock the body still held would
     * otherwise hide the exception behind a deadlock or lockdep report. In a controlled run
     * this stops the run and does not return (the task unwinds with {@link RunAborted}); in
     * the native runtime the failure is collected and the caller goes on with its cleanup and
     * rethrows {@code e}, which is then not reported a second time.
     *
     * @throws IllegalStateException outside a task
     */
    public void reportTaskException(Throwable e) {
        Task t = current();
        if (t == null) {
            throw new IllegalStateException("reportTaskException outside a task");
        }
        runtime.taskThrew(t, Objects.requireNonNull(e));
    }

    /**
     * Reports a failure. In a controlled run this stops the run and, when called from a
     * task, does not return (the task unwinds with {@link RunAborted}).
     */
    public void report(Failure failure) {
        Objects.requireNonNull(failure);
        if (quiescent) {
            synchronized (this) {
                lateFailures.add(failure);
            }
            return;
        }
        runtime.fail(failure);
    }

    /**
     * The current site: acting task, step, and the innermost model, driver or test frames
     * (up to six). The stack is recorded now; the frames are resolved and formatted when
     * first read.
     */
    public Site site() {
        return site(6);
    }

    /** The current site with up to {@code depth} frames; see {@link #site()}. */
    public Site site(int depth) {
        Task t = current();
        if (t == null && quiescent) {
            return new Site("<end of run>", runtime.step(), List.of());
        }
        if (!siteFrames) {
            // Task and step only: a value, so the records of one step of one task (a lock
            // taken, a reference, an allocation) share one.
            String name = t == null ? "<main>" : t.name();
            long step = runtime.step();
            Site last = lastBareSite;
            if (last != null && last.step() == step && last.task() == name) {
                return last;
            }
            Site site = new Site(name, step, List.of());
            lastBareSite = site;
            return site;
        }
        return SiteCapture.site(t == null ? "<main>" : t.name(), runtime.step(), depth);
    }

    /**
     * The failure for {@code e} thrown by the body of {@code t}: its stack, and each cause's,
     * down to the task's body (the runtime's frames below it are the same for every task and
     * are left out), and a site made of its innermost visible frames.
     */
    Failure unexpected(Task t, Throwable e) {
        List<String> stack = new ArrayList<>();
        Throwable c = e;
        while (c != null && stack.size() < 40) {
            if (c != e) {
                stack.add("caused by " + c);
            }
            taskFrames(c).stream().limit(20).map(f -> "  at " + f).forEach(stack::add);
            c = c.getCause() == c ? null : c.getCause();
        }
        List<String> frames = SiteCapture.visibleFrames(taskFrames(e), 6, t.body.getClass().getClassLoader());
        return new Failure.UnexpectedException(e.getClass().getName(), e.getMessage(), stack,
                new Site(t.name(), runtime.step(), frames));
    }

    /** The frames of {@code e} above the runtime's task entry (all of them if it is not there). */
    private static List<StackTraceElement> taskFrames(Throwable e) {
        List<StackTraceElement> all = Arrays.asList(e.getStackTrace());
        for (int i = 0; i < all.size(); i++) {
            StackTraceElement f = all.get(i);
            if (f.getMethodName().equals("taskMain") && (f.getClassName().equals(ControlledRuntime.class.getName())
                    || f.getClassName().equals(NativeRuntime.class.getName()))) {
                return all.subList(0, i);
            }
        }
        return all;
    }
}
