package hmm4j.sim;

import hmm4j.sim.failure.Failure;
import java.util.List;
import java.util.Optional;

/**
 * What a run produced.
 *
 * @param seed         the kernel's seed
 * @param strategy     the strategy description (controlled) or {@code "native"}
 * @param failures     failures in report order (a controlled run stops at the first)
 * @param steps        scheduling decisions taken
 * @param virtualNanos virtual time at the end (controlled) or elapsed real time (native)
 * @param decisions    the decision list (empty in the native runtime)
 * @param trace        the trace events (empty when tracing is off)
 * @param divergence   set when a replay no longer matched its recorded schedule
 * @param taskNames    task names by id (index 0 is id 1)
 * @param marks        the coverage marks the run hit, ordered by id ({@link Mark})
 * @param validators   the names of the checks run at the end of the run
 *                     ({@link Kernel#atQuiescence}), in the order they ran, each once; empty
 *                     when the run stopped before its end (a controlled run stops at its
 *                     first failure)
 */
@HiddenFromSites
public record RunResult(long seed, String strategy, List<Failure> failures, long steps, long virtualNanos,
                        List<Decision> decisions, List<TraceEvent> trace, Optional<String> divergence,
                        List<String> taskNames, List<Mark> marks, List<String> validators) {

    public RunResult {
        failures = List.copyOf(failures);
        // The runtime's compact record is immutable already: copying it would build every decision.
        decisions = decisions instanceof DecisionLog.View ? decisions : List.copyOf(decisions);
        trace = List.copyOf(trace);
        taskNames = List.copyOf(taskNames);
        marks = marks.stream().distinct().sorted(Mark.BY_ID).toList();
        validators = List.copyOf(validators);
    }

    /** A result that ran no end-of-run check. */
    public RunResult(long seed, String strategy, List<Failure> failures, long steps, long virtualNanos,
                     List<Decision> decisions, List<TraceEvent> trace, Optional<String> divergence,
                     List<String> taskNames, List<Mark> marks) {
        this(seed, strategy, failures, steps, virtualNanos, decisions, trace, divergence, taskNames, marks, List.of());
    }

    /** A result that hit no coverage mark. */
    public RunResult(long seed, String strategy, List<Failure> failures, long steps, long virtualNanos,
                     List<Decision> decisions, List<TraceEvent> trace, Optional<String> divergence,
                     List<String> taskNames) {
        this(seed, strategy, failures, steps, virtualNanos, decisions, trace, divergence, taskNames, List.of(),
                List.of());
    }

    /** This result with {@code marks} as the marks hit. */
    public RunResult withMarks(List<Mark> marks) {
        return new RunResult(seed, strategy, failures, steps, virtualNanos, decisions, trace, divergence, taskNames,
                marks, validators);
    }

    /** This result with what the end of the run added: the marks hit and the checks that ran. */
    public RunResult withEnd(List<Mark> marks, List<String> validators) {
        return new RunResult(seed, strategy, failures, steps, virtualNanos, decisions, trace, divergence, taskNames,
                marks, validators);
    }

    /** True when the run hit {@code mark}. */
    public boolean hit(Mark mark) {
        return marks.contains(mark);
    }

    /** True when the run found nothing and did not diverge. */
    public boolean clean() {
        return failures.isEmpty() && divergence.isEmpty();
    }

    /** The first failure, if any. */
    public Optional<Failure> firstFailure() {
        return failures.isEmpty() ? Optional.empty() : Optional.of(failures.get(0));
    }
}
