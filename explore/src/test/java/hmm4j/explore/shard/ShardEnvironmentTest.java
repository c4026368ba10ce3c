package hmm4j.explore.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.Shard;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code --shard auto}: each batch engine's variables, their precedence and every unusable case. */
class ShardEnvironmentTest {

    private static Shard shard(Map<String, String> env) {
        return ShardEnvironment.read(env).shard();
    }

    private static String error(Map<String, String> env) {
        return assertThrows(IllegalArgumentException.class, () -> ShardEnvironment.read(env)).getMessage();
    }

    @Test
    void kubernetesIndexedJob_indexFromJobCompletionIndex_countFromTheManifest() {
        ShardEnvironment.Found f = ShardEnvironment.read(Map.of("JOB_COMPLETION_INDEX", "3", "HMM4J_SHARD_COUNT", "4"));
        assertEquals(new Shard(3, 4), f.shard());
        assertEquals("shard 3/4 from the Kubernetes Indexed Job (JOB_COMPLETION_INDEX=3, HMM4J_SHARD_COUNT=4)",
                f.describe());
        assertEquals("--shard auto: JOB_COMPLETION_INDEX is set but HMM4J_SHARD_COUNT is not (set it to the number of "
                + "shards, the Job's completions)", error(Map.of("JOB_COMPLETION_INDEX", "0")));
    }

    @Test
    void slurmArray_countedFromItsMinimumInItsSteps() {
        assertEquals(new Shard(2, 4), shard(Map.of("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "4")));
        assertEquals(new Shard(0, 4), shard(Map.of("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT", "4",
                "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_MAX", "4")));
        assertEquals(new Shard(3, 4), shard(Map.of("SLURM_ARRAY_TASK_ID", "6", "SLURM_ARRAY_TASK_COUNT", "4",
                "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_STEP", "2")));
        assertTrue(error(Map.of("SLURM_ARRAY_TASK_ID", "3", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_STEP", "2"))
                .startsWith("--shard auto: SLURM_ARRAY_TASK_ID=3 is not in the array"));
    }

    @Test
    void ciMatrices_gitlabFromOne_circleAndBuildkiteFromZero_githubThroughTheExplicitVariables() {
        assertEquals(new Shard(0, 3), shard(Map.of("CI_NODE_INDEX", "1", "CI_NODE_TOTAL", "3")));
        assertEquals(new Shard(2, 3), shard(Map.of("CI_NODE_INDEX", "3", "CI_NODE_TOTAL", "3")));
        assertEquals(new Shard(1, 5), shard(Map.of("CIRCLE_NODE_INDEX", "1", "CIRCLE_NODE_TOTAL", "5")));
        assertEquals(new Shard(4, 5), shard(Map.of("BUILDKITE_PARALLEL_JOB", "4", "BUILDKITE_PARALLEL_JOB_COUNT", "5")));
        assertEquals(new Shard(1, 2), shard(Map.of("HMM4J_SHARD_INDEX", "1", "HMM4J_SHARD_COUNT", "2")));
    }

    @Test
    void explicitVariablesWinOverAnEngine() {
        assertEquals(new Shard(1, 2), shard(Map.of("HMM4J_SHARD_INDEX", "1", "HMM4J_SHARD_COUNT", "2",
                "CI_NODE_INDEX", "1", "CI_NODE_TOTAL", "2")));
    }

    @Test
    void nothingFound_oneLineNamingWhatWasLookedFor() {
        String m = error(Map.of("PATH", "/usr/bin"));
        assertTrue(m.startsWith("--shard auto: no shard index in the environment (looked for HMM4J_SHARD_INDEX, "
                + "JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, CI_NODE_INDEX"), m);
        assertEquals(1, m.lines().count());
        assertTrue(error(Map.of("HMM4J_SHARD_INDEX", " ")).startsWith("--shard auto: no shard index"),
                "a blank variable is not set");
    }

    @Test
    void unusableValues_refusedInTheirOwnTerms() {
        assertEquals("--shard auto: CI_NODE_TOTAL='two' is not a number",
                error(Map.of("CI_NODE_INDEX", "1", "CI_NODE_TOTAL", "two")));
        assertEquals("--shard auto: the Slurm array job gives shard index 4, outside 0..3 (SLURM_ARRAY_TASK_ID=4, "
                + "SLURM_ARRAY_TASK_COUNT=4)", error(Map.of("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4")));
        assertEquals("--shard auto: the GitLab CI parallel job gives shard index -1, outside 0..1 (CI_NODE_INDEX=0, "
                + "CI_NODE_TOTAL=2)", error(Map.of("CI_NODE_INDEX", "0", "CI_NODE_TOTAL", "2")));
        assertEquals("--shard auto: HMM4J_SHARD_COUNT=3 disagrees with SLURM_ARRAY_TASK_COUNT=4",
                error(Map.of("SLURM_ARRAY_TASK_ID", "0", "SLURM_ARRAY_TASK_COUNT", "4", "HMM4J_SHARD_COUNT", "3")));
        assertEquals("--shard auto: the environment gives a shard count of 0 (HMM4J_SHARD_INDEX=0, HMM4J_SHARD_COUNT=0)",
                error(Map.of("HMM4J_SHARD_INDEX", "0", "HMM4J_SHARD_COUNT", "0")));
        assertTrue(error(Map.of("CIRCLE_NODE_INDEX", "0")).contains("sets no CIRCLE_NODE_TOTAL"));
    }
}
