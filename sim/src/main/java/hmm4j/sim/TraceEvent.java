package hmm4j.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One line of a run's trace: task {@code taskId} ({@code task}) did {@code op} at
 * {@code step}; {@link #where()} is the innermost model, driver or test frame, or empty
 * when the kernel records no sites.
 *
 * <p>Every event has a {@link Kind}: an operation at a scheduling point, a block with what
 * the task waits for ({@link #detail()}, naming the holders of a lock), a wake-up with the
 * task that woke it ({@link #wokenBy()}), a timeout, an exit or an exception. An event at
 * which the machine went to another task carries that {@linkplain #switchTo() switch} and
 * its {@linkplain SwitchReason reason}, so a report can annotate every context switch.
 *
 * <p>Steps: an event at a scheduling point (an operation, a block, a sleep, an exit) has
 * the number of the decision taken there, the same number as its {@link Decision} and as
 * the sites of what the task does right after it; an event inside a stretch of a task's run
 * (woken, timed out, threw) has the number of the decision that let the task run. Two
 * exceptions at the end of a run: the exit of the last task takes no decision and keeps the
 * current number, and the block that leaves no task to run has the number of the decision
 * that could not be taken (as the deadlock's site does). Steps therefore never decrease
 * along a trace, and a site with step {@code N} belongs after the events of step {@code N}.
 *
 * <p>A value, compared by all fields but its {@linkplain #notes() notes}. The substrate
 * captures the frame of {@link #where()} when the event happens but formats it only when it
 * is first read.
 *
 * <p>Notes: labels the model attaches to the event with {@link Kernel#note} while the task
 * runs the stretch of code after it ({@code mmu_notifier_register},
 * {@code invalidate_range_start UNMAP}, ...). They are for the reports that draw pictures
 * (the HTML timeline, the Perfetto trace) and for nothing else: not a scheduling point, not
 * part of the value, not in the text report or the failure files.
 */
@HiddenFromSites
public final class TraceEvent {

    /** What kind of thing a task did. */
    public enum Kind {
        /** Reached a scheduling point before the operation {@link #op()}. */
        OPERATION,
        /** Could not go on: {@link #detail()} says on what ({@code mutex_lock(m) held by t}). */
        BLOCKED,
        /** Went to sleep on the virtual clock ({@code msleep}); {@link #detail()} says until when. */
        SLEEPING,
        /** Resumed after a block or a sleep; {@link #wokenBy()} names the waker when it is a task. */
        WOKEN,
        /** A wait with a timeout ended because the (virtual) time ran out. */
        TIMED_OUT,
        /** The task's body returned. */
        EXIT,
        /** The task's body threw; the run's failure has the stack. */
        THREW
    }

    /** Why the machine went from the acting task to another one after an event. */
    public enum SwitchReason {
        /** The strategy chose another task although the acting one could go on. */
        PREEMPTED("preempted"),
        /** The acting task blocked (on a lock, a queue, a completion, SRCU, a join). */
        BLOCKED("blocked"),
        /** The acting task sleeps on the virtual clock. */
        SLEEPING("sleeping"),
        /** The acting task exited. */
        EXITED("exited");

        private final String label;

        SwitchReason(String label) {
            this.label = label;
        }

        /** The word reports use, e.g. {@code preempted}. */
        public String label() {
            return label;
        }
    }

    /**
     * A context switch after an event: the acting task stopped for {@code reason} and the
     * task {@code toTaskId} ({@code toTask}) runs next.
     */
    public record Switch(SwitchReason reason, int toTaskId, String toTask) {
        public Switch {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(toTask, "toTask");
        }

        /** One phrase, e.g. {@code preempted; b runs}. */
        public String describe() {
            return reason.label() + "; " + toTask + " runs";
        }
    }

    private final long step;
    private final int taskId;
    private final String task;
    private final Kind kind;
    private final String op;
    private final String detail;
    private final Op operation;
    private final String wokenBy;
    private final Switch switchTo;
    private volatile String where;
    private Supplier<String> pending; // guarded by this; null once resolved
    private volatile List<String> notes = List.of(); // written under this

    /**
     * An event with its code site already known ({@code ""} for none). The kind is read
     * from {@code op} as the runtime writes it ({@code blocked: }, {@code woken: },
     * {@code timed out: }, {@code exit}, {@code threw }; anything else is an operation); there
     * is no switch, no waker and no typed {@link #operation()}.
     */
    public TraceEvent(long step, int taskId, String task, String op, String where) {
        this(step, taskId, task, kindOf(op), op, detailOf(op), "", null, where);
    }

    /**
     * An event with every field given.
     *
     * @param kind     what the task did
     * @param op       the operation or the event's one-line text ({@code blocked: ...})
     * @param detail   for a block, sleep, wake-up or timeout: what the task waits or waited
     *                 for; else {@code ""}
     * @param wokenBy  for a wake-up: the name of the task that woke it, or {@code ""}
     * @param switchTo the switch to another task after this event, or null
     * @param where    the innermost code frame, or {@code ""}
     */
    public TraceEvent(long step, int taskId, String task, Kind kind, String op, String detail, String wokenBy,
                      Switch switchTo, String where) {
        this(step, taskId, task, kind, op, detail, null, wokenBy, switchTo, where);
    }

    /**
     * An event with its typed operation: {@code operation} is the operation of the decision
     * taken at the event (an operation, a block, a sleep, an exit), or null for the other
     * events; the other parameters are as above.
     */
    TraceEvent(long step, int taskId, String task, Kind kind, String op, String detail, Op operation,
               String wokenBy, Switch switchTo, String where) {
        this(step, taskId, task, kind, op, detail, operation, wokenBy, switchTo);
        this.where = Objects.requireNonNull(where, "where");
    }

    /** An event whose code site is computed by {@code where} when first read, once. */
    TraceEvent(long step, int taskId, String task, Kind kind, String op, String detail, Op operation,
               String wokenBy, Switch switchTo, Supplier<String> where) {
        this(step, taskId, task, kind, op, detail, operation, wokenBy, switchTo);
        this.pending = Objects.requireNonNull(where, "where");
    }

    private TraceEvent(long step, int taskId, String task, Kind kind, String op, String detail, Op operation,
                       String wokenBy, Switch switchTo) {
        this.step = step;
        this.taskId = taskId;
        this.task = Objects.requireNonNull(task, "task");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.op = Objects.requireNonNull(op, "op");
        this.detail = Objects.requireNonNull(detail, "detail");
        this.operation = operation;
        this.wokenBy = Objects.requireNonNull(wokenBy, "wokenBy");
        this.switchTo = switchTo;
    }

    private static Kind kindOf(String op) {
        if (op.startsWith("blocked: ")) return Kind.BLOCKED;
        if (op.startsWith("woken")) return Kind.WOKEN;
        if (op.startsWith("timed out: ")) return Kind.TIMED_OUT;
        if (op.equals("exit")) return Kind.EXIT;
        if (op.startsWith("threw ")) return Kind.THREW;
        return Kind.OPERATION;
    }

    private static String detailOf(String op) {
        int colon = op.indexOf(": ");
        return kindOf(op) == Kind.OPERATION || colon < 0 ? "" : op.substring(colon + 2);
    }

    /** The scheduling step the event belongs to (see the class comment). */
    public long step() {
        return step;
    }

    /** The acting task's number within its kernel (from 1). */
    public int taskId() {
        return taskId;
    }

    /** The acting task's name. */
    public String task() {
        return task;
    }

    /** What kind of event this is. */
    public Kind kind() {
        return kind;
    }

    /**
     * What the task did, e.g. {@code mutex_lock(m)}, or the event's one-line text for the
     * other kinds: {@code blocked: <detail>}, {@code msleep until <t> ns},
     * {@code woken: <detail>}, {@code timed out: <detail>}, {@code exit},
     * {@code threw <Exception>}.
     */
    public String op() {
        return op;
    }

    /**
     * For a block, sleep, wake-up or timeout: what the task waits (or waited) for, e.g.
     * {@code mutex_lock(m) held by writer} or {@code wait_event(wq) waiting on wq};
     * otherwise {@code ""}.
     */
    public String detail() {
        return detail;
    }

    /**
     * The typed operation of the decision taken at this event: the operation for an
     * {@link Kind#OPERATION} (its label is {@link #op()}), the {@link Op.Kind#BLOCK} of a
     * block, the sleep of a sleep, the exit of an exit; empty for wake-ups, time-outs,
     * exceptions and events built from text.
     */
    public Optional<Op> operation() {
        return Optional.ofNullable(operation);
    }

    /** For a wake-up by another task: that task's name. Empty for other events and for timers. */
    public Optional<String> wokenBy() {
        return wokenBy.isEmpty() ? Optional.empty() : Optional.of(wokenBy);
    }

    /** The context switch right after this event, if the machine went to another task. */
    public Optional<Switch> switchTo() {
        return Optional.ofNullable(switchTo);
    }

    /** The innermost code frame as {@code Class.method(File:line)}, or {@code ""}. */
    public String where() {
        String w = where;
        if (w == null) {
            synchronized (this) {
                w = where;
                if (w == null) {
                    w = pending.get();
                    where = w;
                    pending = null;
                }
            }
        }
        return w;
    }

    /**
     * The labels the model attached to this event ({@link Kernel#note}), in the order they
     * were made; empty for most events. Not part of the event's value.
     */
    public List<String> notes() {
        return notes;
    }

    /** Appends a note (the task that made it is the one that recorded this event). */
    void addNote(String text) {
        synchronized (this) {
            List<String> next = new ArrayList<>(notes.size() + 1);
            next.addAll(notes);
            next.add(Objects.requireNonNull(text, "text"));
            notes = List.copyOf(next);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TraceEvent e && step == e.step && taskId == e.taskId && task.equals(e.task)
                && kind == e.kind && op.equals(e.op) && detail.equals(e.detail)
                && Objects.equals(operation, e.operation) && wokenBy.equals(e.wokenBy)
                && Objects.equals(switchTo, e.switchTo) && where().equals(e.where());
    }

    @Override
    public int hashCode() {
        return Objects.hash(step, taskId, task, kind, op, detail, operation, wokenBy, switchTo, where());
    }

    @Override
    public String toString() {
        return "TraceEvent[step=" + step + ", taskId=" + taskId + ", task=" + task + ", kind=" + kind + ", op=" + op
                + (detail.isEmpty() ? "" : ", detail=" + detail)
                + (wokenBy.isEmpty() ? "" : ", wokenBy=" + wokenBy)
                + (switchTo == null ? "" : ", switchTo=" + switchTo)
                + ", where=" + where() + "]";
    }
}
