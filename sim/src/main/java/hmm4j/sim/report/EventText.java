package hmm4j.sim.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.List;
import java.util.Optional;

/**
 * The words every report uses for a trace event, a context switch and the failure mark, so
 * that the text, HTML and trace-event renderings of one run say the same thing.
 *
 * <ul>
 *   <li>an operation is its name: {@code mutex_lock(m)};</li>
 *   <li>a block says on what, naming a lock's holders or the queue:
 *       {@code blocked: mutex_lock(m) held by writer},
 *       {@code blocked: wait_event(wq) waiting on wq};</li>
 *   <li>a wake-up names the waker: {@code woken by writer}, or {@code woken by the clock}
 *       after a sleep;</li>
 *   <li>a switch says why the acting task stopped and who runs:
 *       {@code preempted, reader runs} or, after a block, a sleep or an exit (whose own line
 *       already says why), {@code reader runs};</li>
 *   <li>the failure mark is {@code ✗} and the failure's headline.</li>
 * </ul>
 */
@HiddenFromSites
public final class EventText {
    /** The mark of a context switch in text renderings. */
    public static final String SWITCH_MARK = "⇢";
    /** The mark of the failure in text renderings. */
    public static final String FAILURE_MARK = "✗";

    private EventText() {
    }

    /** What the task did, in words: see the class comment. */
    public static String describe(TraceEvent e) {
        return switch (e.kind()) {
            case OPERATION, EXIT, THREW -> e.op();
            case BLOCKED -> "blocked: " + e.detail();
            case SLEEPING -> e.detail().isEmpty() ? e.op() : e.detail();
            case WOKEN -> e.wokenBy().map(w -> "woken by " + w)
                    .orElse(e.detail().startsWith("msleep") ? "woken by the clock" : "woken");
            case TIMED_OUT -> "timed out: " + e.detail();
        };
    }

    /**
     * The switch after {@code e}, in words: {@code preempted, b runs} when the task was
     * preempted, else {@code b runs} (the event itself says why); empty without a switch.
     */
    public static Optional<String> describeSwitch(TraceEvent e) {
        return e.switchTo().map(s -> s.reason() == TraceEvent.SwitchReason.PREEMPTED
                ? "preempted, " + s.toTask() + " runs"
                : s.toTask() + " runs");
    }

    /** The switch after {@code e} with its reason always spelled out: {@code blocked; b runs}. */
    public static Optional<String> describeSwitchWithReason(TraceEvent e) {
        return e.switchTo().map(TraceEvent.Switch::describe);
    }

    /** The mark of {@code f}: {@code ✗ } and its headline. */
    public static String failureMark(Failure f) {
        return FAILURE_MARK + " " + f.headline();
    }

    /**
     * The index of the task column a failure is marked in: the 0-based position of the
     * failure's site task in {@code taskNames}, or -1 when the failure happened outside any
     * task of the run (set-up code, the checks at the end of the run).
     */
    public static int failureTaskIndex(Failure f, List<String> taskNames) {
        Site s = f.site();
        return s == null ? -1 : taskNames.indexOf(s.task());
    }
}
