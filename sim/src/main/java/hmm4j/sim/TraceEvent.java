package hmm4j.sim;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * One line of a run's trace: task {@code taskId} ({@code task}) did {@code op} at
 * {@code step}; {@link #where()} is the innermost model, driver or test frame, or empty
 * when the kernel records no sites.
 *
 * <p>A value, compared by all five fields. The substrate captures the frame of
 * {@link #where()} when the event happens but formats it only when it is first read.
 */
@HiddenFromSites
public final class TraceEvent {
    private final long step;
    private final int taskId;
    private final String task;
    private final String op;
    private volatile String where;
    private Supplier<String> pending; // guarded by this; null once resolved

    /** An event with its code site already known ({@code ""} for none). */
    public TraceEvent(long step, int taskId, String task, String op, String where) {
        this.step = step;
        this.taskId = taskId;
        this.task = task;
        this.op = op;
        this.where = Objects.requireNonNull(where, "where");
    }

    /** An event whose code site is computed by {@code where} when first read, once. */
    TraceEvent(long step, int taskId, String task, String op, Supplier<String> where) {
        this.step = step;
        this.taskId = taskId;
        this.task = task;
        this.op = op;
        this.pending = Objects.requireNonNull(where, "where");
    }

    /** The scheduling step the event happened at. */
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

    /** What the task did, e.g. {@code mutex_lock(m)} or {@code blocked: ...}. */
    public String op() {
        return op;
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

    @Override
    public boolean equals(Object o) {
        return o instanceof TraceEvent e && step == e.step && taskId == e.taskId && Objects.equals(task, e.task)
                && Objects.equals(op, e.op) && where().equals(e.where());
    }

    @Override
    public int hashCode() {
        return Objects.hash(step, taskId, task, op, where());
    }

    @Override
    public String toString() {
        return "TraceEvent[step=" + step + ", taskId=" + taskId + ", task=" + task + ", op=" + op
                + ", where=" + where() + "]";
    }
}
