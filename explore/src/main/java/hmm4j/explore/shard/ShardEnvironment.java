package hmm4j.explore.shard;

import hmm4j.explore.Shard;
import hmm4j.sim.HiddenFromSites;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The shard a process of a batch engine is, read from the environment the engine gives it
 * ({@code hmm4j explore --shard auto}): each engine that runs N copies of one command tells
 * each copy its index in variables of its own.
 *
 * <p>Looked for in this order; the first source whose index variable is set decides:
 * <ol>
 *   <li>{@code HMM4J_SHARD_INDEX} (from 0) and {@code HMM4J_SHARD_COUNT}: set by hand, or by
 *       a CI matrix that has no variables of its own (GitHub Actions: from
 *       {@code strategy.job-index} and {@code strategy.job-total});</li>
 *   <li>a Kubernetes Indexed Job: {@code JOB_COMPLETION_INDEX} (from 0); Kubernetes does not
 *       pass the number of completions to a pod, so the manifest sets {@code HMM4J_SHARD_COUNT}
 *       to the Job's {@code completions};</li>
 *   <li>a Slurm array job: {@code SLURM_ARRAY_TASK_ID} and {@code SLURM_ARRAY_TASK_COUNT}, the
 *       index counted from {@code SLURM_ARRAY_TASK_MIN} in steps of {@code SLURM_ARRAY_TASK_STEP}
 *       (so {@code --array=1-4} and {@code --array=0-6:2} are four shards too);</li>
 *   <li>GitLab CI {@code parallel: N}: {@code CI_NODE_INDEX} (from 1) and {@code CI_NODE_TOTAL};</li>
 *   <li>CircleCI {@code parallelism}: {@code CIRCLE_NODE_INDEX} (from 0) and {@code CIRCLE_NODE_TOTAL};</li>
 *   <li>Buildkite {@code parallelism}: {@code BUILDKITE_PARALLEL_JOB} (from 0) and
 *       {@code BUILDKITE_PARALLEL_JOB_COUNT}.</li>
 * </ol>
 * When {@code HMM4J_SHARD_COUNT} is set next to an engine's own count, the two must agree.
 * Nothing found, a value that is not a number, or an index outside the count is an
 * {@link IllegalArgumentException} with a one-line message (the command line's exit code 2).
 */
@HiddenFromSites
public final class ShardEnvironment {
    /** The explicit index variable (from 0). */
    public static final String INDEX = "HMM4J_SHARD_INDEX";
    /** The explicit count variable; also the count of a Kubernetes Indexed Job. */
    public static final String COUNT = "HMM4J_SHARD_COUNT";

    /**
     * Where a shard was read from.
     *
     * @param shard  the shard
     * @param engine the engine, e.g. {@code Slurm array job}
     * @param source the variables read, e.g. {@code SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=4}
     */
    public record Found(Shard shard, String engine, String source) {
        public Found {
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(engine, "engine");
            Objects.requireNonNull(source, "source");
        }

        /** {@code shard 2/4 from the Slurm array job (SLURM_ARRAY_TASK_ID=2, ...)}. */
        public String describe() {
            return "shard " + shard + " from the " + engine + " (" + source + ")";
        }
    }

    private final Map<String, String> env;
    private final List<String> read = new ArrayList<>();

    private ShardEnvironment(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    /**
     * The shard described by {@code env}.
     *
     * @throws IllegalArgumentException with a one-line message when no engine's variables are
     *                                  set or they are unusable
     */
    public static Found read(Map<String, String> env) {
        return new ShardEnvironment(env).find();
    }

    private Found find() {
        if (has(INDEX)) {
            return found("environment", number(INDEX), requiredCount(INDEX));
        }
        if (has("JOB_COMPLETION_INDEX")) {
            return found("Kubernetes Indexed Job", number("JOB_COMPLETION_INDEX"), requiredCount("JOB_COMPLETION_INDEX"));
        }
        if (has("SLURM_ARRAY_TASK_ID")) {
            int id = number("SLURM_ARRAY_TASK_ID");
            int count = engineCount("SLURM_ARRAY_TASK_COUNT", "Slurm array job");
            int min = has("SLURM_ARRAY_TASK_MIN") ? number("SLURM_ARRAY_TASK_MIN") : 0;
            int step = has("SLURM_ARRAY_TASK_STEP") ? number("SLURM_ARRAY_TASK_STEP") : 1;
            if (step < 1 || id < min || (id - min) % step != 0) {
                throw new IllegalArgumentException("--shard auto: SLURM_ARRAY_TASK_ID=" + id + " is not in the array "
                        + min + "-...:" + step + " (SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_STEP)");
            }
            return found("Slurm array job", (id - min) / step, count);
        }
        if (has("CI_NODE_INDEX")) {
            return found("GitLab CI parallel job", number("CI_NODE_INDEX") - 1, engineCount("CI_NODE_TOTAL",
                    "GitLab CI parallel job"));
        }
        if (has("CIRCLE_NODE_INDEX")) {
            return found("CircleCI parallel job", number("CIRCLE_NODE_INDEX"), engineCount("CIRCLE_NODE_TOTAL",
                    "CircleCI parallel job"));
        }
        if (has("BUILDKITE_PARALLEL_JOB")) {
            return found("Buildkite parallel job", number("BUILDKITE_PARALLEL_JOB"),
                    engineCount("BUILDKITE_PARALLEL_JOB_COUNT", "Buildkite parallel job"));
        }
        throw new IllegalArgumentException("--shard auto: no shard index in the environment (looked for " + INDEX
                + ", JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, CI_NODE_INDEX, CIRCLE_NODE_INDEX, BUILDKITE_PARALLEL_JOB;"
                + " give --shard I/N or run under a batch engine, see docs/sharding.md)");
    }

    private Found found(String engine, int index, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("--shard auto: the " + engine + " gives a shard count of " + count
                    + " (" + String.join(", ", read) + ")");
        }
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("--shard auto: the " + engine + " gives shard index " + index
                    + ", outside 0.." + (count - 1) + " (" + String.join(", ", read) + ")");
        }
        return new Found(new Shard(index, count), engine, String.join(", ", read));
    }

    /** The count of a source that has none of its own: {@value #COUNT}, required. */
    private int requiredCount(String indexVariable) {
        if (!has(COUNT)) {
            throw new IllegalArgumentException("--shard auto: " + indexVariable + " is set but " + COUNT
                    + " is not (set it to the number of shards" + (indexVariable.equals(INDEX) ? ""
                    : ", the Job's completions") + ")");
        }
        return number(COUNT);
    }

    /** The engine's own count, checked against {@value #COUNT} when that is set too. */
    private int engineCount(String variable, String engine) {
        if (!has(variable)) {
            if (has(COUNT)) {
                return number(COUNT);
            }
            throw new IllegalArgumentException("--shard auto: the " + engine + " sets no " + variable
                    + " (set " + COUNT + " to the number of shards)");
        }
        int count = number(variable);
        if (has(COUNT) && number(COUNT) != count) {
            throw new IllegalArgumentException("--shard auto: " + COUNT + "=" + env.get(COUNT).strip() + " disagrees with "
                    + variable + "=" + count);
        }
        return count;
    }

    private boolean has(String variable) {
        String v = env.get(variable);
        return v != null && !v.isBlank();
    }

    private int number(String variable) {
        String v = env.get(variable).strip();
        try {
            int n = Integer.parseInt(v);
            String entry = variable + "=" + n;
            if (!read.contains(entry)) {
                read.add(entry);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shard auto: " + variable + "='" + v + "' is not a number");
        }
    }
}
