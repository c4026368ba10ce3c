package hmm4j.explore.minimise;

import hmm4j.sim.Decision;
import hmm4j.sim.HiddenFromSites;
import java.util.List;

/**
 * The outcome of minimising a failing schedule.
 *
 * @param originalContextSwitches context switches of the failing run
 * @param originalPreemptions     preemptions of the failing run
 * @param contextSwitches         context switches of the smallest schedule found
 * @param preemptions             preemptions of the smallest schedule found
 * @param decisions               that schedule (fails the same way)
 * @param candidates              candidate schedules run
 */
@HiddenFromSites
public record Minimisation(int originalContextSwitches, int originalPreemptions, int contextSwitches,
                           int preemptions, List<Decision> decisions, int candidates) {
    public Minimisation {
        decisions = List.copyOf(decisions);
    }

    /**
     * One line, e.g. {@code minimised: 9 -> 3 context switches (4 -> 1 preemptions, 6 candidates
     * tried)}, or {@code minimal: ...} when no preemption could be removed.
     */
    public String summary() {
        if (preemptions == originalPreemptions && contextSwitches == originalContextSwitches) {
            return "minimal: " + contextSwitches + " context switch" + (contextSwitches == 1 ? "" : "es") + ", "
                    + preemptions + " preemption" + (preemptions == 1 ? "" : "s") + " (none could be removed; "
                    + candidates + " candidate" + (candidates == 1 ? "" : "s") + " tried)";
        }
        return "minimised: " + originalContextSwitches + " -> " + contextSwitches + " context switches ("
                + originalPreemptions + " -> " + preemptions + " preemptions, " + candidates + " candidate"
                + (candidates == 1 ? "" : "s") + " tried)";
    }
}
