package hmm4j.sim.failure;

import hmm4j.sim.HiddenFromSites;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Where something happened: the task that did it, the scheduling step, and the code frames
 * that led there (innermost first, frames of the substrate, the checkers and the JDK
 * removed, each as {@code Class.method(File:line)}).
 *
 * <p>A value: two sites are equal when task, step and frames are. A site captured by the
 * substrate ({@code Kernel.site()}) is {@linkplain #lazy lazy}: the stack is walked when it
 * is captured, but the frames are turned into text only when first read, since most sites
 * (held locks, allocations, references) never appear in a report. Reading is thread-safe
 * and gives the same frames every time.
 */
@HiddenFromSites
public final class Site {
    private final String task;
    private final long step;
    private volatile List<String> frames;
    private Supplier<? extends List<String>> pending; // guarded by this; null once resolved

    /**
     * A site with its frames already known.
     *
     * @param task   name of the acting task, or {@code "<main>"} outside any task
     * @param step   scheduling step at which it happened (0 in the native runtime)
     * @param frames code locations, innermost first, as {@code Class.method(File:line)}
     */
    public Site(String task, long step, List<String> frames) {
        this.task = task;
        this.step = step;
        this.frames = List.copyOf(frames);
    }

    private Site(String task, long step, Supplier<? extends List<String>> frames) {
        this.task = task;
        this.step = step;
        this.pending = Objects.requireNonNull(frames, "frames");
    }

    /**
     * A site whose frames are computed by {@code frames} when first read, once. The supplier
     * must be a pure function of state captured beforehand (the walked stack), not of the
     * reading thread's stack.
     */
    public static Site lazy(String task, long step, Supplier<? extends List<String>> frames) {
        return new Site(task, step, frames);
    }

    /** Name of the acting task, or {@code "<main>"} outside any task. */
    public String task() {
        return task;
    }

    /** Scheduling step at which it happened (0 in the native runtime). */
    public long step() {
        return step;
    }

    /** Code locations, innermost first, as {@code Class.method(File:line)}; possibly empty. */
    public List<String> frames() {
        List<String> f = frames;
        if (f == null) {
            synchronized (this) {
                f = frames;
                if (f == null) {
                    f = List.copyOf(pending.get());
                    frames = f;
                    pending = null;
                }
            }
        }
        return f;
    }

    /** The innermost frame, or {@code "?"} when no frame was captured. */
    public String where() {
        List<String> f = frames();
        return f.isEmpty() ? "?" : f.get(0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Site s && step == s.step && Objects.equals(task, s.task) && frames().equals(s.frames());
    }

    @Override
    public int hashCode() {
        return Objects.hash(task, step, frames());
    }

    /**
     * One line: {@code task @ step N at Frame <- Caller <- Caller} (up to six frames; of a site
     * extended to the caller's line, five and then {@code <- ... <- Line}).
     */
    @Override
    public String toString() {
        List<String> f = frames();
        // The innermost six; a site of more than six frames was extended past the model to
        // the caller's own line, which is shown after the innermost five.
        String chain = f.isEmpty() ? "?" : String.join(" <- ", f.subList(0, Math.min(5, f.size())))
                + (f.size() > 6 ? " <- ... <- " + f.get(f.size() - 1) : f.size() == 6 ? " <- " + f.get(5) : "");
        return task + " @ step " + step + " at " + chain;
    }
}
