package hmm4j.sim;

import java.util.List;
import java.util.Locale;

/**
 * Re-executes a recorded decision list and verifies, at every step, that the enabled set
 * and the operation are the ones recorded: the same kind, target number and access
 * ({@link Op#sameAs}; labels are for people and are not compared), and that the recorded
 * choice is one of the enabled tasks. On a mismatch it stops
 * the run with "diverged at step N" and what differed, rather than drifting.
 */
@HiddenFromSites
public final class ReplayStrategy implements Strategy {
    private final List<Decision> decisions;
    private final String description;

    public ReplayStrategy(List<Decision> decisions) {
        this(decisions, null);
    }

    /**
     * A replay that describes itself as {@code description} (the strategy that recorded the
     * schedule, so that the report of a replayed run names it), or as
     * {@code replay(N decisions)} when {@code description} is null.
     */
    public ReplayStrategy(List<Decision> decisions, String description) {
        this.decisions = List.copyOf(decisions);
        this.description = description;
    }

    @Override
    public int pick(SchedulingPoint point) {
        long step = point.step();
        if (step > decisions.size()) {
            throw new ReplayDivergence("diverged at step " + step + ": the recorded schedule has only "
                    + decisions.size() + " steps (at " + point.op() + ")");
        }
        Decision d = decisions.get((int) (step - 1));
        List<Task> tasks = point.enabled();
        List<Integer> recorded = d.enabled();
        boolean same = tasks.size() == recorded.size();
        for (int i = 0; same && i < tasks.size(); i++) {
            same = tasks.get(i).id() == recorded.get(i);
        }
        if (!same) {
            List<Integer> enabled = tasks.stream().map(Task::id).toList();
            throw new ReplayDivergence("diverged at step " + step + ": enabled tasks " + enabled
                    + " but recorded " + recorded + " (at " + point.op() + ")");
        }
        if (!point.op().sameAs(d.op())) {
            throw new ReplayDivergence("diverged at step " + step + ": operation " + describe(point.op())
                    + " but recorded " + describe(d.op()));
        }
        int index = recorded.indexOf(d.chosen());
        if (index < 0) {
            throw new ReplayDivergence("diverged at step " + step + ": the recorded choice, task " + d.chosen()
                    + ", is not enabled (enabled tasks " + recorded + ", at " + point.op() + ")");
        }
        return index;
    }

    /** {@code 'label' (kind on target #id, access)}: what was compared, for the divergence message. */
    private static String describe(Op op) {
        return "'" + op.label() + "' (" + op.kind().name() + " on target #" + op.target().id() + ", "
                + op.access().name().toLowerCase(Locale.ROOT) + ")";
    }

    @Override
    public String describe() {
        return description != null ? description : "replay(" + decisions.size() + " decisions)";
    }
}
