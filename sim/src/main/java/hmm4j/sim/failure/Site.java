package hmm4j.sim.failure;

import java.util.List;

/**
 * Where something happened: the task that did it, the virtual time and step, and the
 * code frames that led there (innermost first, substrate and checker frames removed).
 *
 * @param task   name of the acting task, or {@code "<main>"} outside any task
 * @param step   scheduling step at which it happened (0 in the native runtime)
 * @param frames code locations, innermost first, as {@code Class.method(File:line)}
 */
public record Site(String task, long step, List<String> frames) {

    public Site {
        frames = List.copyOf(frames);
    }

    /** The innermost frame, or {@code "?"} when no frame was captured. */
    public String where() {
        return frames.isEmpty() ? "?" : frames.get(0);
    }

    /** One line: {@code task @ step N at Frame <- Caller <- Caller} (up to five frames). */
    @Override
    public String toString() {
        String chain = frames.isEmpty() ? "?" : String.join(" <- ", frames.subList(0, Math.min(5, frames.size())));
        return task + " @ step " + step + " at " + chain;
    }
}
