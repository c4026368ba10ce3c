package hmm4j.sim.failure;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.SimRules;
import java.util.List;
import java.util.Objects;

/**
 * A failure found in a run. The set is closed: every checker and the runtime report one
 * of these records, and renderers switch over them exhaustively. A failure is data;
 * rendering lives in {@link hmm4j.sim.report.TextReport}. Every failure names the
 * {@link Rule} it breaks ({@link #rule()}): an invariant violation, a use-after-free and a
 * refcount error carry theirs (the last two default to the rule of their kind or problem in
 * {@link SimRules}); the other records stand for one rule each.
 */
@HiddenFromSites
public sealed interface Failure {

    /** The verdict class of this failure. */
    FailureKind kind();

    /** The rule this failure breaks; its {@link Rule#kind()} is {@link #kind()}. */
    Rule rule();

    /** Where the failure was detected (the access, the acquisition, the blocked step). */
    Site site();

    /** One line, lockdep/KASAN style, naming the object and the operation. */
    String headline();

    /** Detail lines after the headline (sites, chains, blocked tasks), possibly empty. */
    List<String> details();

    /**
     * An object with a kernel lifetime was touched after it was freed (KASAN style), or freed
     * twice: {@code rule} says which ({@link SimRules#USE_AFTER_FREE_RULE} unless given).
     */
    record UseAfterFree(String object, String access, Site allocated, Site freed, Site site, Rule rule)
            implements Failure {
        public UseAfterFree {
            requireKind(rule, FailureKind.USE_AFTER_FREE);
        }
        /** A use-after-free of rule {@link SimRules#USE_AFTER_FREE_RULE}. */
        public UseAfterFree(String object, String access, Site allocated, Site freed, Site site) {
            this(object, access, allocated, freed, site, SimRules.USE_AFTER_FREE_RULE);
        }
        public FailureKind kind() { return FailureKind.USE_AFTER_FREE; }
        public String headline() {
            return "use-after-free: " + access + " on freed " + object;
        }
        public List<String> details() {
            return List.of("accessed by " + site, "allocated by " + allocated, "freed by " + freed);
        }
    }

    /**
     * A VMA lookup, page-table walk or fault on an mm by a task that holds no
     * {@code mm_users} reference on it (rule mm.pin), whether or not the mm was still alive.
     */
    record UnpinnedAddressSpaceUse(String mm, String operation, String mmState, String holders, Site site)
            implements Failure {
        public FailureKind kind() { return FailureKind.UNPINNED_ADDRESS_SPACE; }
        public Rule rule() { return SimRules.PIN; }
        public String headline() {
            return "address space used without mmget: " + operation + " on " + mm + " (" + mmState + ")";
        }
        public List<String> details() {
            return List.of("by " + site, "mm_users held by: " + holders);
        }
    }

    /**
     * A reference-count misuse: underflow, saturation, get on zero, put without get, leak;
     * {@code rule} is the problem's rule in {@link SimRules#of} unless the reporter names a
     * more specific one.
     */
    record RefcountError(String object, RefcountProblem problem, String detail, Site site, Rule rule)
            implements Failure {
        public RefcountError {
            Objects.requireNonNull(problem, "problem");
            requireKind(rule, FailureKind.REFCOUNT_ERROR);
        }
        /** A refcount error of the problem's own rule. */
        public RefcountError(String object, RefcountProblem problem, String detail, Site site) {
            this(object, problem, detail, site, SimRules.of(problem));
        }
        public FailureKind kind() { return FailureKind.REFCOUNT_ERROR; }
        public String headline() {
            return "refcount error: " + problem.label() + " on " + object;
        }
        public List<String> details() {
            return List.of(detail, "at " + site);
        }
    }

    /** What went wrong with a reference count. */
    enum RefcountProblem {
        UNDERFLOW("underflow; use-after-free"),
        SATURATED("saturated; leaking memory"),
        ADDITION_ON_ZERO("addition on 0; use-after-free"),
        PUT_WITHOUT_GET("put without a matching get"),
        LEAK("reference leaked at the end of the run");

        private final String label;

        RefcountProblem(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * Lockdep: taking {@code acquiring} while holding {@code held} closes a cycle in the
     * dependency graph ({@link SimRules#LOCK_ORDER}), or takes a class the task already holds
     * ({@code held} equals {@code acquiring}, {@link SimRules#RECURSIVE_LOCKING}).
     * {@code newChain} is the acquisition that closed it, as printed; {@code existingChain}
     * the path recorded earlier, as data: for a cycle, one {@link LockLink} per dependency,
     * the first leaving {@code acquiring} and the last entering {@code held}; for a recursion,
     * the {@link LockHeld} entry of the lock already held.
     */
    record LockOrderCycle(String held, String acquiring, List<String> newChain, List<ChainEntry> existingChain,
                          Site site) implements Failure {
        public LockOrderCycle {
            newChain = List.copyOf(newChain);
            existingChain = List.copyOf(existingChain);
        }
        public FailureKind kind() { return FailureKind.LOCK_ORDER_CYCLE; }
        public Rule rule() { return recursive() ? SimRules.RECURSIVE_LOCKING : SimRules.LOCK_ORDER; }
        /** True for a recursive acquisition of one class. */
        public boolean recursive() {
            return held.equals(acquiring);
        }
        public String headline() {
            return "possible circular locking dependency: " + site.task() + " takes " + acquiring
                    + " while holding " + held;
        }
        /** The existing chain as printed, one line per entry. */
        public List<String> existingLines() {
            return existingChain.stream().map(ChainEntry::line).toList();
        }
        public List<String> details() {
            var lines = new java.util.ArrayList<String>();
            lines.add("new dependency:");
            newChain.forEach(s -> lines.add("  " + s));
            lines.add("existing dependency chain:");
            existingChain.forEach(e -> lines.add("  " + e.line()));
            return lines;
        }
    }

    /** One entry of a lock-order report's existing chain. */
    sealed interface ChainEntry permits LockLink, LockHeld {
        /** The task that took the lock (its id in its kernel, and its name). */
        int taskId();

        /** The name of that task. */
        String task();

        /** Where it took the lock. */
        Site site();

        /** The entry as a report prints it. */
        String line();
    }

    /**
     * One dependency {@code from -> to}: {@code to} was first taken while {@code from} was
     * held, by task {@code taskId} ({@code task}) at {@code site}, in run {@code run} of the
     * lock graph (kernel seed {@code seed}).
     *
     * @param how        how the ends were held, e.g. {@code " (A held for read)"}; empty when both exclusive
     * @param earlierRun true when recorded in an earlier run than the one reporting
     */
    record LockLink(String from, String to, String how, int taskId, String task, int run, long seed,
                    boolean earlierRun, Site site) implements ChainEntry {
        public LockLink {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(how, "how");
            Objects.requireNonNull(task, "task");
            Objects.requireNonNull(site, "site");
        }
        /** {@code A -> B[ how] at site[ (earlier run R, seed S)]}. */
        public String line() {
            String s = from + " -> " + to + how + " at " + site;
            return earlierRun ? s + " (earlier run " + run + ", seed " + seed + ")" : s;
        }
    }

    /**
     * The lock a recursive acquisition already holds: {@code lock} (its name, with its class
     * when they differ), held {@code how} ({@code ""}, {@code " for read"}, ...), taken by
     * task {@code taskId} at {@code site}.
     */
    record LockHeld(String lock, String how, int taskId, String task, Site site) implements ChainEntry {
        public LockHeld {
            Objects.requireNonNull(lock, "lock");
            Objects.requireNonNull(how, "how");
            Objects.requireNonNull(task, "task");
            Objects.requireNonNull(site, "site");
        }
        /** {@code lock[ how] already held, taken at site}. */
        public String line() {
            return lock + how + " already held, taken at " + site;
        }
    }

    /** A call that may sleep, made in atomic context (spinlock held, RCU read side, non-block section). */
    record SleepInAtomic(String operation, String context, Site site) implements Failure {
        public FailureKind kind() { return FailureKind.SLEEP_IN_ATOMIC; }
        public Rule rule() { return SimRules.SLEEP_IN_ATOMIC_RULE; }
        public String headline() {
            return "sleeping function called from invalid context: " + operation + " in " + context;
        }
        public List<String> details() {
            return List.of("at " + site);
        }
    }

    /** No task can run and some have not finished: each blocked task with its blocking point. */
    record Deadlock(List<String> blocked, Site site) implements Failure {
        public Deadlock {
            blocked = List.copyOf(blocked);
        }
        public FailureKind kind() { return FailureKind.DEADLOCK; }
        public Rule rule() { return SimRules.DEADLOCK_FREE; }
        public String headline() {
            return "deadlock: no task can run, " + blocked.size() + " blocked";
        }
        public List<String> details() {
            return blocked;
        }
    }

    /**
     * The run exceeded one of its bounds: steps, virtual time, wall-clock time (a livelock or
     * a runaway loop), time blocked outside the model, live tasks or decision memory.
     */
    record StepBoundExceeded(String bound, long limit, String detail, Site site) implements Failure {
        public FailureKind kind() { return FailureKind.STEP_BOUND_EXCEEDED; }
        public Rule rule() { return SimRules.BOUNDED; }
        public String headline() {
            String why = switch (bound) {
                case "time blocked outside the model (ms)" -> "a task waits on something the model cannot see";
                case "live tasks", "decision memory (bytes)" -> "a spawn bomb or a runaway loop";
                case "a task that cannot be switched away" -> "a pinned task";
                default -> "livelock or runaway loop";
            };
            return "run bound exceeded: " + bound + " limit " + limit + " (" + why + ")";
        }
        public List<String> details() {
            return List.of(detail);
        }

        /**
         * True for a bound of real time (wall-clock, or blocked outside the model): a rerun
         * of the run takes that time again, so an explorer does not replay it for a report.
         */
        public boolean ofRealTime() {
            return bound.equals("wall-clock time") || bound.equals("time blocked outside the model (ms)");
        }
    }

    /**
     * A rule asserted by the model, a driver or a test was broken (lockdep_assert_held,
     * BUG_ON, WARN_ON, a validator): the headline is the rule's statement, {@code detail}
     * says what was found.
     */
    record InvariantViolation(Rule rule, String detail, Site site) implements Failure {
        public InvariantViolation {
            requireKind(rule, FailureKind.INVARIANT_VIOLATION);
        }
        public FailureKind kind() { return FailureKind.INVARIANT_VIOLATION; }
        public String headline() {
            return "invariant violated: " + rule.statement();
        }
        public List<String> details() {
            return List.of(detail, "at " + site);
        }
    }

    /** A task threw: reported with its stack, never a crash of the tool. */
    record UnexpectedException(String exception, String message, List<String> stack, Site site)
            implements Failure {
        public UnexpectedException {
            stack = List.copyOf(stack);
        }
        public FailureKind kind() { return FailureKind.UNEXPECTED_EXCEPTION; }
        public Rule rule() { return SimRules.NO_EXCEPTION; }
        public String headline() {
            return "unexpected exception in " + site.task() + ": " + exception
                    + (message == null ? "" : ": " + message);
        }
        public List<String> details() {
            return stack;
        }
    }

    private static void requireKind(Rule rule, FailureKind kind) {
        Objects.requireNonNull(rule, "rule");
        if (rule.kind() != kind) {
            throw new IllegalArgumentException("rule " + rule.id() + " is of kind " + rule.kind() + ", not " + kind);
        }
    }
}
