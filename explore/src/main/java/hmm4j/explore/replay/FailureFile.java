package hmm4j.explore.replay;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import hmm4j.sim.Decision;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Op;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The content of a failure file: everything needed to re-run one failing run exactly and to
 * check, step by step, that it is the same run. Written as JSON by {@link FailureFiles}.
 *
 * <p>The decision list is the heart of it: at every step, the task chosen (number and
 * name), the tasks that were enabled, the operation at which the choice was made (its kind,
 * access, target number and target label, and its label) and the code site of that
 * operation. Replay re-executes the choices and verifies at every step the enabled set and
 * the operation's kind, access and target number; labels and sites are for people. The other fields say where the run came from (tool
 * version, scenario, strategy and parameters, seed, bounds, its place in the exploration)
 * and what it found.
 *
 * @param format      {@value #FORMAT}
 * @param version     the hmm4j version that wrote the file
 * @param scenario    the target's name (scenario id or test name)
 * @param strategy    the strategy of the failing run
 * @param seed        the run's seed (the kernel's seed)
 * @param runIndex    the run's index in its exploration
 * @param bounds      the run's bounds
 * @param exploration the exploration the run belongs to (to rebuild shared state)
 * @param verdict     what the run found
 * @param steps       scheduling decisions of the run
 * @param tasks       task names by number (index 0 is task 1)
 * @param decisions   every decision of the run
 * @param minimal     the schedule with fewest preemptions found with the same failure, or null
 */
@HiddenFromSites
@JsonPropertyOrder({"format", "version", "scenario", "strategy", "seed", "runIndex", "bounds", "exploration",
        "verdict", "steps", "tasks", "decisions", "minimal"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FailureFile(String format, String version, String scenario, StrategyInfo strategy, long seed,
                          int runIndex, Bounds bounds, Exploration exploration, Verdict verdict, long steps,
                          List<String> tasks, List<Step> decisions, Minimal minimal) {

    /** The format tag of this version of the file: 2 records typed operations per decision. */
    public static final String FORMAT = "hmm4j-failure/2";

    /** The tag of the first format, whose decisions name their operation by its label only. */
    public static final String FORMAT_1 = "hmm4j-failure/1";

    public FailureFile {
        tasks = tasks == null ? List.of() : List.copyOf(tasks);
        decisions = decisions == null ? List.of() : List.copyOf(decisions);
    }

    /**
     * The strategy of the run.
     *
     * @param spec        the member strategy as written on the command line, e.g. {@code pct:3}
     * @param description its description with parameters, e.g. {@code pct(depth=3, steps=57, seed=12)}
     * @param parameters  its parameters by name
     */
    @JsonPropertyOrder({"spec", "description", "parameters"})
    public record StrategyInfo(String spec, String description, Map<String, Object> parameters) {
        /** Keeps the parameters in the order given (files are written with their keys sorted anyway). */
        public StrategyInfo {
            parameters = parameters == null ? Map.of()
                    : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
        }
    }

    /** @param maxSteps scheduling decisions allowed per run */
    public record Bounds(long maxSteps) {
    }

    /**
     * The exploration the run belongs to: with these fields the runs of the failing run's
     * lane that came before it can be re-run to rebuild the objects they shared.
     *
     * @param strategy         the exploration's strategy, e.g. {@code portfolio}
     * @param firstSeed        the seed of run 0
     * @param runs             the run space
     * @param shard            {@code i/n}
     * @param lanes            lanes of the exploration
     * @param lane             the failing run's lane
     * @param runsBeforeInLane runs of that lane before the failing run
     * @param runLength        the estimated run length given to PCT
     * @param sharedState      true when the run used objects shared with earlier runs
     */
    @JsonPropertyOrder({"strategy", "firstSeed", "runs", "shard", "lanes", "lane", "runsBeforeInLane", "runLength",
            "sharedState"})
    public record Exploration(String strategy, long firstSeed, int runs, String shard, int lanes, int lane,
                              int runsBeforeInLane, long runLength, boolean sharedState) {
    }

    /**
     * @param kind     the failure kind's name, e.g. {@code DEADLOCK}, or {@code DIVERGED}
     * @param rule     the id of the rule the failure breaks, e.g. {@code mem.use-after-free}, or
     *                 null (a divergence, or a file written before rules were recorded)
     * @param headline the one-line verdict
     */
    @JsonPropertyOrder({"kind", "rule", "headline"})
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Verdict(String kind, String rule, String headline) {
        /** A verdict without a rule. */
        public Verdict(String kind, String headline) {
            this(kind, null, headline);
        }
    }

    /**
     * One decision.
     *
     * @param step        1-based step
     * @param chosen      the number of the task chosen
     * @param task        its name
     * @param enabled     the numbers of the enabled tasks, ascending
     * @param kind        the kind of the operation at which the choice was made, e.g. {@code mutex_lock}
     * @param access      whether it reads or writes its target
     * @param target      the number of its target within the run's kernel
     * @param targetLabel the target's label, e.g. {@code dmirror->mutex}
     * @param op          the operation's label, e.g. {@code mutex_lock(dmirror->mutex)}
     * @param site        the code site of that operation ({@code Class.method(File:line)}), or empty
     */
    @JsonPropertyOrder({"step", "chosen", "task", "enabled", "kind", "access", "target", "targetLabel", "op", "site"})
    public record Step(long step, int chosen, String task, List<Integer> enabled, String kind, Op.Access access,
                       int target, String targetLabel, String op, String site) {
        public Step {
            enabled = enabled == null ? List.of() : List.copyOf(enabled);
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(access, "access");
            Objects.requireNonNull(targetLabel, "targetLabel");
            Objects.requireNonNull(op, "op");
        }

        /** The step of decision {@code d}, whose chosen task is named {@code task}. */
        public static Step of(Decision d, String task, String site) {
            Op op = d.op();
            return new Step(d.step(), d.chosen(), task, d.enabled(), op.kind().name(), op.access(), op.target().id(),
                    op.target().label(), op.label(), site);
        }

        /** The substrate's decision, with the recorded operation. */
        public Decision toDecision() {
            return new Decision(step, chosen, enabled,
                    new Op(new Op.Kind(kind, access), new Op.Target(target, targetLabel), op));
        }
    }

    /**
     * The minimised schedule.
     *
     * @param contextSwitches         its context switches
     * @param preemptions             its preemptions
     * @param originalContextSwitches the failing run's context switches
     * @param originalPreemptions     the failing run's preemptions
     * @param decisions               its decisions
     */
    @JsonPropertyOrder({"contextSwitches", "preemptions", "originalContextSwitches", "originalPreemptions",
            "decisions"})
    public record Minimal(int contextSwitches, int preemptions, int originalContextSwitches, int originalPreemptions,
                          List<Step> decisions) {
        public Minimal {
            decisions = decisions == null ? List.of() : List.copyOf(decisions);
        }
    }

    /** The recorded decisions as the substrate's decisions. */
    public List<Decision> schedule() {
        return decisions.stream().map(Step::toDecision).toList();
    }
}
