package hmm4j.sim.rule;

import static hmm4j.sim.failure.FailureKind.DEADLOCK;
import static hmm4j.sim.failure.FailureKind.INVARIANT_VIOLATION;
import static hmm4j.sim.failure.FailureKind.LOCK_ORDER_CYCLE;
import static hmm4j.sim.failure.FailureKind.REFCOUNT_ERROR;
import static hmm4j.sim.failure.FailureKind.SLEEP_IN_ATOMIC;
import static hmm4j.sim.failure.FailureKind.STEP_BOUND_EXCEEDED;
import static hmm4j.sim.failure.FailureKind.UNEXPECTED_EXCEPTION;
import static hmm4j.sim.failure.FailureKind.UNPINNED_ADDRESS_SPACE;
import static hmm4j.sim.failure.FailureKind.USE_AFTER_FREE;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.failure.Failure.RefcountProblem;
import java.util.List;

/**
 * The rules of the substrate: those the runtime enforces on every run (no deadlock, runs
 * bounded, no exception), those of the primitives ({@code hmm4j.sim.sync}), and the one rule
 * each failure record stands for when its reporter names no more specific one (a
 * use-after-free, a refcount problem, the pin rule, a lock-order cycle, sleeping in atomic
 * context). The records live in {@code sim}, so their rules do too, although lockdep and the
 * sanitizer in {@code check} and the model in {@code kernel} are what report most of them.
 */
@HiddenFromSites
public final class SimRules {
    /** No task is left that can run while some have not finished. */
    public static final Rule DEADLOCK_FREE = Rule.own("run.no-deadlock", DEADLOCK,
            "some task can always run until every non-daemon task has finished");
    /** Step, virtual-time and wall-clock bounds. */
    public static final Rule BOUNDED = Rule.own("run.bounded", STEP_BOUND_EXCEEDED,
            "every run ends within its step, virtual-time and wall-clock bounds (no livelock, no runaway loop)");
    /** A task body throws. */
    public static final Rule NO_EXCEPTION = Rule.own("run.no-exception", UNEXPECTED_EXCEPTION,
            "no task throws an exception the model did not turn into a report");

    /** KASAN's use-after-free. */
    public static final Rule USE_AFTER_FREE_RULE = Rule.kernel("mem.use-after-free", USE_AFTER_FREE,
            "mm/kasan/report.c", "kasan_report", "no object is read, written or called after it is freed");
    /** The pin rule: every use of an address space holds {@code mm_users}. */
    public static final Rule PIN = Rule.kernel("mm.pin", UNPINNED_ADDRESS_SPACE,
            "include/linux/sched/mm.h", "mmget, mmget_not_zero, mmput",
            "a VMA lookup, page-table walk or fault on an mm runs only while the task holds an mm_users reference "
                    + "on it (mmget) or it is the task's own mm");
    /** {@code refcount_t} underflow. */
    public static final Rule REFCOUNT_UNDERFLOW = Rule.kernel("refcount.underflow", REFCOUNT_ERROR,
            "lib/refcount.c", "refcount_warn_saturate", "a reference count never drops below zero");
    /** {@code refcount_t} saturation. */
    public static final Rule REFCOUNT_SATURATED = Rule.kernel("refcount.saturated", REFCOUNT_ERROR,
            "lib/refcount.c", "refcount_warn_saturate", "a reference count never overflows");
    /** {@code refcount_inc} on zero. */
    public static final Rule REFCOUNT_ADDITION_ON_ZERO = Rule.kernel("refcount.addition-on-zero", REFCOUNT_ERROR,
            "lib/refcount.c", "refcount_warn_saturate",
            "no reference is taken on a count that already reached zero (the object may be gone)");
    /** A put with no get by the same holder. */
    public static final Rule PUT_WITHOUT_GET = Rule.own("refcount.put-without-get", REFCOUNT_ERROR,
            "every put of a reference matches a get by the same holder");
    /** A reference never put. */
    public static final Rule REFERENCE_LEAK = Rule.own("refcount.leak", REFCOUNT_ERROR,
            "every reference taken during a run is put by the end of it");
    /** Lockdep's circular dependency. */
    public static final Rule LOCK_ORDER = Rule.kernel("lockdep.cycle", LOCK_ORDER_CYCLE,
            "kernel/locking/lockdep.c", "check_noncircular",
            "locks are taken in one order: no acquisition closes a cycle in the lock-class dependency graph");
    /** Lockdep's recursive locking. */
    public static final Rule RECURSIVE_LOCKING = Rule.kernel("lockdep.recursive", LOCK_ORDER_CYCLE,
            "kernel/locking/lockdep.c", "check_deadlock",
            "a task never takes a lock class it already holds (except a recursive read under a read)");
    /** {@code might_sleep} in atomic context. */
    public static final Rule SLEEP_IN_ATOMIC_RULE = Rule.kernel("sched.sleep-in-atomic", SLEEP_IN_ATOMIC,
            "kernel/sched/core.c", "__might_sleep",
            "nothing that may sleep runs with a spinlock held, in an RCU read side or in a non-blockable section");

    /** A lock released (or its mode changed) by a task that does not hold it. */
    public static final Rule UNLOCK_BY_HOLDER = Rule.kernel("lock.unlock-by-holder", INVARIANT_VIOLATION,
            "kernel/locking/spinlock_debug.c, mutex.c, rwsem.c",
            "debug_spin_unlock, mutex_unlock, up_read, up_write, downgrade_write",
            "a lock is released (or downgraded) only by a task that holds it in that mode");
    /** Taking a spinlock already held by the same task. */
    public static final Rule SPIN_RECURSION = Rule.kernel("lock.spin-recursion", INVARIANT_VIOLATION,
            "kernel/locking/spinlock_debug.c", "debug_spin_lock_before",
            "a task never takes a spinlock it already holds");
    /** {@code lockdep_assert_held} and the mmap-lock assertions. */
    public static final Rule ASSERT_HELD = Rule.kernel("lock.assert-held", INVARIANT_VIOLATION,
            "include/linux/lockdep.h, include/linux/mmap_lock.h",
            "lockdep_assert_held, mmap_assert_locked, mmap_assert_write_locked",
            "code that asserts a lock held runs with it held by the calling task, in the asserted mode");
    /** SRCU read sections pair. */
    public static final Rule SRCU_UNLOCK_PAIRS_LOCK = Rule.kernel("srcu.unlock-pairs-lock", INVARIANT_VIOLATION,
            "kernel/rcu/srcutree.c", "__srcu_read_unlock",
            "every srcu_read_unlock closes a read section its srcu_read_lock opened");

    /** The set, for the catalogue. */
    public static final RuleSet SET = new RuleSet("Runtime, primitives and failure kinds (sim)",
            "Checked by the controlled runtime on every run, by the primitives of hmm4j.sim.sync, and the rule "
                    + "each failure record stands for when its reporter names no more specific one.",
            List.of(DEADLOCK_FREE, BOUNDED, NO_EXCEPTION, USE_AFTER_FREE_RULE, PIN, REFCOUNT_UNDERFLOW,
                    REFCOUNT_SATURATED, REFCOUNT_ADDITION_ON_ZERO, PUT_WITHOUT_GET, REFERENCE_LEAK, LOCK_ORDER,
                    RECURSIVE_LOCKING, SLEEP_IN_ATOMIC_RULE, UNLOCK_BY_HOLDER, SPIN_RECURSION, ASSERT_HELD,
                    SRCU_UNLOCK_PAIRS_LOCK));

    private SimRules() {
    }

    /** The rule a refcount report of {@code problem} stands for by default. */
    public static Rule of(RefcountProblem problem) {
        return switch (problem) {
            case UNDERFLOW -> REFCOUNT_UNDERFLOW;
            case SATURATED -> REFCOUNT_SATURATED;
            case ADDITION_ON_ZERO -> REFCOUNT_ADDITION_ON_ZERO;
            case PUT_WITHOUT_GET -> PUT_WITHOUT_GET;
            case LEAK -> REFERENCE_LEAK;
        };
    }
}
