package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.shard.ShardMerge;
import hmm4j.explore.shard.ShardResult;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import hmm4j.scenarios.ScenarioRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sharded exploration as a batch engine runs it: four separate JVM processes of
 * {@code hmm4j explore --shard auto}, each told its shard only by the engine's environment
 * variables (a Kubernetes Indexed Job's, a Slurm array job's), then {@code hmm4j merge} of
 * the four shard results, which must equal the exploration done in one process: the same
 * earliest failure (run index, seed, kind, headline) for a buggy design; the same runs and
 * the same coverage marks (runs and first run of each) for a clean one.
 */
class ShardProcessesTest {
    private static final int SHARDS = 4;

    @TempDir
    Path dir;

    /** Starts the four shard processes at once (as an engine does), waits for them, returns their outputs. */
    private List<String> runShards(String scenario, int runs, IntFunction<Map<String, String>> engineEnv)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < SHARDS; i++) {
            ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
                    System.getProperty("java.class.path"),
                    "hmm4j.cli.Main", "explore", scenario, "--runs", String.valueOf(runs), "--shard", "auto",
                    "--out", dir.toString(), "--no-minimise", "--exit-zero-on-failure", "--workers", "1")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("shard-" + i + ".log").toFile());
            Map<String, String> env = pb.environment();
            env.keySet().removeIf(k -> k.startsWith("HMM4J_") || k.startsWith("SLURM_") || k.startsWith("CI_")
                    || k.equals("JOB_COMPLETION_INDEX") || k.startsWith("CIRCLE_") || k.startsWith("BUILDKITE_"));
            env.putAll(engineEnv.apply(i));
            processes.add(pb.start());
        }
        List<String> outputs = new ArrayList<>();
        for (int i = 0; i < SHARDS; i++) {
            Process p = processes.get(i);
            boolean ended = p.waitFor(120, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly();
            }
            String out = Files.readString(dir.resolve("shard-" + i + ".log"), StandardCharsets.UTF_8);
            assertTrue(ended, "shard " + i + " ended:\n" + out);
            assertEquals(0, p.exitValue(), "shard " + i + ":\n" + out);
            outputs.add(out);
        }
        return outputs;
    }

    private ShardMerge.Merged merge(String scenario) {
        List<String> args = new ArrayList<>(List.of("merge"));
        for (int i = 0; i < SHARDS; i++) {
            args.add(dir.resolve(ShardResult.fileName(scenario, new hmm4j.explore.Shard(i, SHARDS))).toString());
        }
        Console m = Console.real().run(args.toArray(String[]::new));
        assertTrue(m.out().startsWith("hmm4j merge " + scenario + ": "), m.out() + m.err());
        List<ShardResult> results = args.subList(1, args.size()).stream().map(f -> ShardMerge.read(Path.of(f)))
                .toList();
        ShardMerge.Merged merged = ShardMerge.merge(results);
        assertEquals(merged.failure().isPresent() ? ExitCodes.FOUND : ExitCodes.CLEAN, m.exitCode(), m.out());
        return merged;
    }

    private static ExplorationResult oneProcess(String id, int runs) {
        Scenario s = Catalogue.all().stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
        return ScenarioRunner.explore(s, ExploreOptions.defaults().withRuns(runs).withMinimise(false).withWorkers(1));
    }

    @Test
    void kubernetesIndexedJob_fourProcesses_mergeToTheEarliestFailureOfOneProcess() throws Exception {
        String id = "S3a-hmm-no-grace";
        List<String> outs = runShards(id, 300, i -> Map.of("JOB_COMPLETION_INDEX", String.valueOf(i),
                "HMM4J_SHARD_COUNT", String.valueOf(SHARDS)));
        for (int i = 0; i < SHARDS; i++) {
            assertTrue(outs.get(i).startsWith("hmm4j explore " + id + ": shard " + i + "/4 from the Kubernetes Indexed "
                    + "Job (JOB_COMPLETION_INDEX=" + i + ", HMM4J_SHARD_COUNT=4)\n"), outs.get(i));
        }
        ShardMerge.Merged merged = merge(id);
        ExplorationResult whole = oneProcess(id, 300);
        ShardResult.ShardFailure expected = ShardResult.of(whole).failure();
        ShardResult.ShardFailure got = merged.failure().orElseThrow();
        assertEquals(List.of(expected.runIndex(), expected.seed(), expected.kind(), expected.headline()),
                List.of(got.runIndex(), got.seed(), got.kind(), got.headline()));
        assertEquals(List.of(), merged.missing());
    }

    @Test
    void slurmArrayJob_fourProcesses_mergeToTheRunsAndMarksOfOneProcess() throws Exception {
        String id = "S1-vhost";
        int runs = 60;
        runShards(id, runs, i -> Map.of("SLURM_ARRAY_TASK_ID", String.valueOf(i + 1), "SLURM_ARRAY_TASK_MIN", "1",
                "SLURM_ARRAY_TASK_MAX", "4", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_JOB_ID", "77"));
        ShardMerge.Merged merged = merge(id);
        ExplorationResult whole = oneProcess(id, runs);
        assertTrue(whole.clean());
        assertTrue(merged.failure().isEmpty());
        assertEquals(whole.runsDone(), merged.runsDone());
        assertEquals(ShardResult.of(whole).marks(), merged.marks());
        assertTrue(!merged.marks().isEmpty(), "the design reaches marks, so the comparison says something");
    }
}
