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
    /** Made at the first wait: most channels (a machine's locks) never have a waiter in a run. */
    private List<Task> waiters;
    /** Per woken waiter, the task that woke it (absent: woken from outside any task); made at the first wake. */
    private Map<Task, Task> wakers;

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
                rt.record(t, rt.step(), TraceEvent.Kind.WOKEN, "woken: ", reason, null, waker, null);
            }
            if (ok) {
                return true;
            }
            if (expired) {
                t.timedOut = false;
                rt.record(t, rt.step(), TraceEvent.Kind.TIMED_OUT, "timed out: ", reason, null, null, null);
                return false;
            }
            rt.block(t, reason, deadline);
            if (waiters == null) {
                waiters = new ArrayList<>(2);
            }
            waiters.add(t);
            Task next = rt.decide(t, TraceEvent.Kind.BLOCKED, "blocked: ", reason,
                    TraceEvent.SwitchReason.BLOCKED, Op.block(on, reason));
            rt.transfer(t, next);
            waiters.remove(t);
            waker = wakers == null ? null : wakers.remove(t);
            resumed = true;
        }
    }

    @Override
    public void wakeAll() {
        List<Task> ws = waiters;
        if (ws == null || ws.isEmpty()) {
            return;
        }
        Task by = rt.current();
        for (int i = 0, n = ws.size(); i < n; i++) {
            Task w = ws.get(i);
            rt.wake(w);
            if (by != null) {
                if (wakers == null) {
                    wakers = new IdentityHashMap<>(2);
                }
                wakers.put(w, by);
            }
        }
        ws.clear();
    }
}
