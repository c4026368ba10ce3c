package hmm4j.sim;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A wait channel of the controlled runtime.
 *
 * <p>Overview: a waiter evaluates its condition with scheduling points suppressed; when it
 * is false the waiter is marked blocked with its reason (for deadlock reports), a decision is
 * taken at the {@code block} operation and the machine goes to another task. {@link #wakeAll}
 * makes every waiter runnable and remembers, per waiter, the task that woke it, so that the
 * trace names the waker; a waiter woken by the virtual clock has timed out. The condition is
 * checked again on every wake-up.
 */
@HiddenFromSites
final class ControlledChannel implements WaitChannel {
    private final ControlledRuntime rt;
    private final List<Task> waiters = new ArrayList<>(2);
    /** Per woken waiter, the task that woke it (absent: woken from outside any task). */
    private final Map<Task, Task> wakers = new IdentityHashMap<>(2);

    ControlledChannel(ControlledRuntime rt) {
        this.rt = rt;
    }

    @Override
    public boolean await(Op.Target on, BooleanSupplier ready, String reason, long timeoutNanos) {
        Task t = rt.requireCurrent();
        long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : rt.nanoTime() + timeoutNanos;
        t.timedOut = false;
        boolean resumed = false;
        Task waker = null;
        while (true) {
            if (rt.aborted()) {
                throw new RunAborted();
            }
            boolean ok;
            t.suppressPoints++;
            try {
                ok = ready.getAsBoolean();
            } finally {
                t.suppressPoints--;
            }
            boolean expired = t.timedOut || (timeoutNanos >= 0 && rt.nanoTime() >= deadline);
            if (resumed && (ok || !expired)) {
                // Woken (or, with the condition true, resumed by the clock): say by whom,
                // then either go on or block again below.
                rt.record(t, rt.step(), TraceEvent.Kind.WOKEN, "woken: " + reason, reason, null, waker, null);
            }
            if (ok) {
                return true;
            }
            if (expired) {
                t.timedOut = false;
                rt.record(t, rt.step(), TraceEvent.Kind.TIMED_OUT, "timed out: " + reason, reason, null, null, null);
                return false;
            }
            rt.block(t, reason, deadline);
            waiters.add(t);
            Task next = rt.decide(t, TraceEvent.Kind.BLOCKED, "blocked: " + reason, reason,
                    TraceEvent.SwitchReason.BLOCKED, new Op(Op.Kind.BLOCK, on, "block " + reason));
            rt.transfer(t, next);
            waiters.remove(t);
            waker = wakers.remove(t);
            resumed = true;
        }
    }

    @Override
    public void wakeAll() {
        Task by = rt.current();
        for (Task w : waiters) {
            rt.wake(w);
            if (by != null) {
                wakers.put(w, by);
            }
        }
        waiters.clear();
    }
}
