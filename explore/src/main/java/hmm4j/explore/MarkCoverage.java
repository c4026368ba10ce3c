package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Mark;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The coverage marks an exploration reached ({@link Mark}): for each mark hit by at least one
 * of its runs, how many runs hit it and the lowest run index that did. Only the runs the
 * result counts take part (when stopping at a failure: those at or below the failing run), so
 * the coverage is the same for any number of workers.
 *
 * @param reached the marks reached, ordered by id
 */
@HiddenFromSites
public record MarkCoverage(List<Reached> reached) {

    /** No mark reached. */
    public static final MarkCoverage NONE = new MarkCoverage(List.of());

    /**
     * One mark reached.
     *
     * @param mark     the mark
     * @param runs     the runs that hit it
     * @param firstRun the lowest index of those runs
     */
    public record Reached(Mark mark, long runs, int firstRun) {
    }

    public MarkCoverage {
        reached = reached.stream().sorted(Comparator.comparing(Reached::mark, Mark.BY_ID)).toList();
    }

    /** The marks reached, ordered by id. */
    public List<Mark> marks() {
        return reached.stream().map(Reached::mark).toList();
    }

    /** What the exploration did with {@code mark}, if it reached it. */
    public Optional<Reached> of(Mark mark) {
        return reached.stream().filter(r -> r.mark() == mark).findFirst();
    }

    /** True when some run hit {@code mark}. */
    public boolean reached(Mark mark) {
        return of(mark).isPresent();
    }

    /** The marks reached with their runs, e.g. {@code mn.interval.read-retry (30 runs), ...}, or {@code none}. */
    public String summary() {
        if (reached.isEmpty()) {
            return "none";
        }
        return reached.stream().map(r -> r.mark().id() + " (" + r.runs() + " run" + (r.runs() == 1 ? "" : "s") + ")")
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** The marks of {@code wanted} that no run hit, in the given order. */
    public List<Mark> missing(Collection<Mark> wanted) {
        List<Mark> missing = new ArrayList<>();
        for (Mark m : wanted) {
            if (!reached(m)) {
                missing.add(m);
            }
        }
        return List.copyOf(missing);
    }
}
