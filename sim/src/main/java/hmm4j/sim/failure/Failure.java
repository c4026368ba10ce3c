package hmm4j.sim.failure;

import hmm4j.sim.HiddenFromSites;
import java.util.List;

/**
 * A failure found in a run. The set is closed: every checker and the runtime report one
 * of these records, and renderers switch over them exhaustively. A failure is data;
 * rendering lives in {@link hmm4j.sim.report.TextReport}.
 */
@HiddenFromSites
public sealed interface Failure {

    /** The verdict class of this failure. */
    FailureKind kind();

    /** Where the failure was detected (the access, the acquisition, the blocked step). */
    Site site();

    /** One line, lockdep/KASAN style, naming the object and the operation. */
    String headline();

    /** Detail lines after the headline (sites, chains, blocked tasks), possibly empty. */
    List<String> details();

    /** An object with a kernel lifetime was touched after it was freed (KASAN style). */
    record UseAfterFree(String object, String access, Site allocated, Site freed, Site site)
            implements Failure {
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
     * {@code mm_users} reference on it (spec I-3), whether or not the mm was still alive.
     */
    record UnpinnedAddressSpaceUse(String mm, String operation, String mmState, String holders, Site site)
            implements Failure {
        public FailureKind kind() { return FailureKind.UNPINNED_ADDRESS_SPACE; }
        public String headline() {
            return "address space used without mmget: " + operation + " on " + mm + " (" + mmState + ")";
        }
        public List<String> details() {
            return List.of("by " + site, "mm_users held by: " + holders);
        }
    }

    /** A reference-count misuse: underflow, saturation, get on zero, put without get, leak. */
    record RefcountError(String object, RefcountProblem problem, String detail, Site site) implements Failure {
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
     * dependency graph. {@code newChain} is the acquisition that closed it, {@code existingChain}
     * the path recorded earlier in the run (each step "A -> B at site").
     */
    record LockOrderCycle(String held, String acquiring, List<String> newChain, List<String> existingChain, Site site)
            implements Failure {
        public LockOrderCycle {
            newChain = List.copyOf(newChain);
            existingChain = List.copyOf(existingChain);
        }
        public FailureKind kind() { return FailureKind.LOCK_ORDER_CYCLE; }
        public String headline() {
            return "possible circular locking dependency: " + site.task() + " takes " + acquiring
                    + " while holding " + held;
        }
        public List<String> details() {
            var lines = new java.util.ArrayList<String>();
            lines.add("new dependency:");
            newChain.forEach(s -> lines.add("  " + s));
            lines.add("existing dependency chain:");
            existingChain.forEach(s -> lines.add("  " + s));
            return lines;
        }
    }

    /** A call that may sleep, made in atomic context (spinlock held, RCU read side, non-block section). */
    record SleepInAtomic(String operation, String context, Site site) implements Failure {
        public FailureKind kind() { return FailureKind.SLEEP_IN_ATOMIC; }
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
        public String headline() {
            return "deadlock: no task can run, " + blocked.size() + " blocked";
        }
        public List<String> details() {
            return blocked;
        }
    }

    /** The run exceeded its step, virtual-time or wall-clock bound (a livelock or a runaway loop). */
    record StepBoundExceeded(String bound, long limit, String detail, Site site) implements Failure {
        public FailureKind kind() { return FailureKind.STEP_BOUND_EXCEEDED; }
        public String headline() {
            return "run bound exceeded: " + bound + " limit " + limit + " (livelock or runaway loop)";
        }
        public List<String> details() {
            return List.of(detail);
        }
    }

    /** A kernel rule asserted by the model was broken (lockdep_assert_held, BUG_ON, WARN_ON, ...). */
    record InvariantViolation(String rule, String detail, Site site) implements Failure {
        public FailureKind kind() { return FailureKind.INVARIANT_VIOLATION; }
        public String headline() {
            return "invariant violated: " + rule;
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
        public String headline() {
            return "unexpected exception in " + site.task() + ": " + exception
                    + (message == null ? "" : ": " + message);
        }
        public List<String> details() {
            return stack;
        }
    }
}
