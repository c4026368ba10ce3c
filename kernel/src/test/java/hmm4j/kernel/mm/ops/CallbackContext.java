package hmm4j.kernel.mm.ops;

import hmm4j.check.lockdep.HeldLock;
import hmm4j.check.lockdep.Lockdep;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Classic notifier ops that record, for every {@code invalidate_range_start}, the context the
 * kernel runs the callback in: the event, the range, the blockable flag, the owner, the task
 * and the locks lockdep says that task holds ({@code "class"}, {@code "class [read]"},
 * {@code "class [trylock]"}, in acquisition order). An optional refusal answers
 * {@code -EAGAIN} to the non-blockable starts it matches.
 */
final class CallbackContext implements MmuNotifierOps {
    /** One recorded start. */
    record Call(String event, long start, long end, boolean blockable, Object owner, String task, List<String> held) {
        /** True if a lock of {@code lockClass} is held (in any mode). */
        boolean holds(String lockClass) {
            return held.stream().anyMatch(h -> h.equals(lockClass) || h.startsWith(lockClass + " ["));
        }
    }

    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final Predicate<MmuNotifierRange> refuse;

    CallbackContext() {
        this(r -> false);
    }

    /** Answers {@code -EAGAIN} to every non-blockable start {@code refuse} matches. */
    CallbackContext(Predicate<MmuNotifierRange> refuse) {
        this.refuse = refuse;
    }

    /** Registers these ops as a classic notifier named "context" on {@code mm}. */
    MmuNotifier register(MmStruct mm) {
        MmuNotifier sub = new MmuNotifier("context", this);
        sub.register(mm);
        return sub;
    }

    List<Call> calls() {
        return List.copyOf(calls);
    }

    void clear() {
        calls.clear();
    }

    /** The lock classes (with mode) the current task holds, for callbacks and tests. */
    static List<String> heldNow(Kernel k) {
        return Lockdep.of(k).heldLocks(k.current()).stream().map(CallbackContext::describe).toList();
    }

    private static String describe(HeldLock h) {
        String s = h.lockClass().name();
        if (h.mode() != LockMode.EXCLUSIVE) {
            s += " [read]";
        }
        if (h.trylock()) {
            s += " [trylock]";
        }
        return s;
    }

    @Override
    public int invalidateRangeStart(MmuNotifier subscription, MmuNotifierRange range) {
        Kernel k = range.mm().kernel();
        calls.add(new Call(range.event().name(), range.start(), range.end(), range.blockable(), range.owner(),
                k.current().name(), heldNow(k)));
        return !range.blockable() && refuse.test(range) ? -hmm4j.kernel.mm.Errno.EAGAIN : 0;
    }
}
