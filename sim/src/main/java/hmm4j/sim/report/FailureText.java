package hmm4j.sim.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.List;

/**
 * The detail block of a failure as reports print it, under its headline: the failure's own
 * {@linkplain Failure#details() detail lines}, except for two kinds laid out the way kernel
 * engineers read them.
 *
 * <ul>
 *   <li>A <b>use-after-free</b> shows its three sites KASAN style, each with the task, the
 *       step and its frames one per line: the access, where the object was allocated, where
 *       it was freed.</li>
 *   <li>A <b>lock-order cycle</b> shows the new dependency and the existing chain, then
 *       lockdep's "possible unsafe locking scenario": a two-column table in which CPU0 is the
 *       task that closed the cycle (it holds the first lock and takes the second) and CPU1
 *       the task that recorded the last link of the existing chain
 *       ({@link Failure.LockLink}), with its run when that was an earlier one. A recursive
 *       acquisition of one lock class gets the one-column table.</li>
 * </ul>
 *
 * <p>Lines are returned without indentation; callers indent them.
 */
@HiddenFromSites
public final class FailureText {
    /** Frames shown per site of a use-after-free. */
    public static final int UAF_FRAMES = 8;
    private static final int CPU_COLUMN = 24;

    private FailureText() {
    }

    /** The detail lines of {@code f}, laid out as described in the class comment. */
    public static List<String> details(Failure f) {
        return switch (f) {
            case Failure.UseAfterFree u -> useAfterFree(u);
            case Failure.LockOrderCycle c -> lockOrderCycle(c);
            default -> f.details();
        };
    }

    private static List<String> useAfterFree(Failure.UseAfterFree u) {
        List<String> lines = new ArrayList<>();
        site(lines, "accessed by", u.site());
        site(lines, "allocated by", u.allocated());
        site(lines, "freed by", u.freed());
        return lines;
    }

    private static void site(List<String> lines, String what, Site s) {
        lines.add(what + " " + s.task() + " at step " + s.step() + ":");
        List<String> frames = s.frames();
        if (frames.isEmpty()) {
            lines.add("  (no frame captured)");
        }
        frames.stream().limit(UAF_FRAMES).forEach(fr -> lines.add("  " + fr));
        if (frames.size() > UAF_FRAMES) {
            lines.add("  ... " + (frames.size() - UAF_FRAMES) + " more");
        }
    }

    private static List<String> lockOrderCycle(Failure.LockOrderCycle c) {
        List<String> lines = new ArrayList<>(c.details());
        lines.add("");
        lines.addAll(unsafeLockingScenario(c));
        return lines;
    }

    /**
     * Lockdep's "possible unsafe locking scenario" for {@code c}: CPU0 holds {@code held} and
     * takes {@code acquiring}; CPU1 took the lock before {@code held} in the existing chain
     * (for a cycle of two locks, {@code acquiring}) and then waits for {@code held}.
     */
    public static List<String> unsafeLockingScenario(Failure.LockOrderCycle c) {
        String cpu0 = "CPU0 (" + c.site().task() + ")";
        List<String> lines = new ArrayList<>();
        lines.add("Possible unsafe locking scenario:");
        lines.add("");
        if (c.held().equals(c.acquiring())) {
            lines.add("      " + cpu0);
            lines.add("      " + "-".repeat(cpu0.length()));
            lines.add(" lock(" + c.held() + ");");
            lines.add(" lock(" + c.acquiring() + ");");
            lines.add("");
            lines.add(" *** DEADLOCK ***");
            lines.add("");
            lines.add("May be due to missing lock nesting notation");
            return lines;
        }
        String parent = c.acquiring();
        String cpu1 = "CPU1";
        if (!c.existingChain().isEmpty()
                && c.existingChain().get(c.existingChain().size() - 1) instanceof Failure.LockLink last
                && last.to().equals(c.held())) {
            parent = last.from();
            cpu1 = "CPU1 (" + last.task() + (last.earlierRun() ? ", earlier run " + last.run() : "") + ")";
        }
        int width = Math.max(CPU_COLUMN, cpu0.length() + 2);
        lines.add("      " + pad(cpu0, width) + cpu1);
        lines.add("      " + pad("-".repeat(cpu0.length()), width) + "-".repeat(cpu1.length()));
        String right = " ".repeat(6 + width);
        lines.add(" lock(" + c.held() + ");");
        lines.add(right + "lock(" + parent + ");");
        lines.add(right + "lock(" + c.held() + ");");
        lines.add(" lock(" + c.acquiring() + ");");
        lines.add("");
        lines.add(" *** DEADLOCK ***");
        return lines;
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(width - s.length());
    }
}
