package hmm4j.explore.minimise;

import hmm4j.sim.Decision;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.Strategy;
import hmm4j.sim.failure.Failure;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Removes preemptions from a failing schedule while the same failure persists, so that the
 * report shows the fewest context switches that still break the program.
 *
 * <p>Overview: a hill climb in the spirit of Jalbert and Sen's trace simplification ("A
 * Trace Simplification Technique for Effective Debugging of Concurrent Programs", FSE 2010).
 * For each preemption of the current schedule, first to last, the candidates let the
 * preempted task go on first ({@link Schedules#withoutPreemption}); a candidate runs with an
 * {@link OrderStrategy} and counts when it fails with the same failure (same kind and same
 * headline). The first candidate with fewer preemptions (or as many and fewer context
 * switches) becomes the current schedule, as its actual decisions, and the scan restarts.
 * When a scan finds no improvement, the first failing candidate that is no worse and not
 * seen before is taken instead (a sideways step: moving one block often only shifts a
 * preemption, and the next move removes it). The climb ends when a scan finds neither, or
 * when the candidate budget is spent. Every candidate is one deterministic run, so the
 * result is a function of the input.
 */
@HiddenFromSites
public final class Minimiser {
    private final Function<Strategy, RunResult> rerun;
    private final int maxCandidates;

    /**
     * @param rerun         runs the failing target once more (same seed, fresh or rebuilt shared
     *                      state) under the given strategy
     * @param maxCandidates the most candidate runs to try
     */
    public Minimiser(Function<Strategy, RunResult> rerun, int maxCandidates) {
        this.rerun = Objects.requireNonNull(rerun, "rerun");
        if (maxCandidates < 0) throw new IllegalArgumentException("maxCandidates must not be negative");
        this.maxCandidates = maxCandidates;
    }

    /** True when {@code r} fails by the same rule, with the same headline, as {@code failure}. */
    public static boolean sameFailure(RunResult r, Failure failure) {
        return r.divergence().isEmpty() && r.firstFailure()
                .filter(f -> f.rule().equals(failure.rule()) && f.headline().equals(failure.headline())).isPresent();
    }

    /** Minimises {@code decisions}, a schedule that fails with {@code failure}. */
    public Minimisation minimise(List<Decision> decisions, Failure failure) {
        List<Decision> current = List.copyOf(decisions);
        Set<List<Integer>> seen = new HashSet<>();
        seen.add(Schedules.order(current));
        int candidates = 0;
        while (candidates < maxCandidates) {
            List<Decision> sideways = null;
            List<Decision> better = null;
            List<Integer> order = Schedules.order(current);
            scan:
            for (int s = 1; s < current.size(); s++) {
                if (!Schedules.isPreemption(current, s)) {
                    continue;
                }
                for (List<Integer> candidate : Schedules.withoutPreemption(order, s)) {
                    if (candidates >= maxCandidates) {
                        break scan;
                    }
                    candidates++;
                    RunResult r = rerun.apply(new OrderStrategy(candidate));
                    if (!sameFailure(r, failure) || !seen.add(Schedules.order(r.decisions()))) {
                        continue;
                    }
                    int cmp = compare(r.decisions(), current);
                    if (cmp < 0) {
                        better = r.decisions();
                        break scan;
                    }
                    if (cmp == 0 && sideways == null) {
                        sideways = r.decisions();
                    }
                }
            }
            if (better != null) {
                current = better;
            } else if (sideways != null) {
                current = sideways;
            } else {
                break;
            }
        }
        return new Minimisation(Schedules.contextSwitches(decisions), Schedules.preemptions(decisions),
                Schedules.contextSwitches(current), Schedules.preemptions(current), current, candidates);
    }

    /** Negative when {@code a} has fewer preemptions than {@code b}, or as many and fewer switches. */
    private static int compare(List<Decision> a, List<Decision> b) {
        int p = Integer.compare(Schedules.preemptions(a), Schedules.preemptions(b));
        return p != 0 ? p : Integer.compare(Schedules.contextSwitches(a), Schedules.contextSwitches(b));
    }
}
