package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The example manifests under {@code deploy/} stay in step with the command line: every hmm4j
 * command in them (a Kubernetes container's {@code args}, a {@code java -jar hmm4j.jar ...}
 * line of a Slurm script or a CI job) parses with the real {@code hmm4j} command line, names a
 * catalogue scenario, runs its shards with {@code --shard auto}, and merges as many shards as
 * the engine runs.
 */
class DeployExamplesTest {
    private static final Pattern ARGS = Pattern.compile("^\\s*args: (\\[.*\\])\\s*$");
    private static final Pattern JAR_LINE = Pattern.compile("hmm4j\\.jar[\"}]*\\s+((?:explore|merge)\\s.*)$");

    private static Path deploy() {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path d = base; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("deploy/kubernetes"))) {
                return d.resolve("deploy");
            }
        }
        throw new AssertionError("deploy/ not found from " + base);
    }

    /** The hmm4j commands of {@code file}, as argument lists. */
    private static List<List<String>> commands(Path file) throws IOException {
        List<List<String>> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            Matcher a = ARGS.matcher(line);
            if (a.matches()) {
                out.add(Arrays.asList(new ObjectMapper().readValue(a.group(1), String[].class)));
                continue;
            }
            Matcher j = JAR_LINE.matcher(line);
            if (j.find() && !line.strip().startsWith("#")) {
                String shell = j.group(1).replaceAll("\"?\\$\\{HMM4J_OUT:-results}\"?", "results")
                        .replace("\"$out\"", "results").replace("'", "").replace("\"", "");
                out.add(Arrays.asList(shell.strip().split("\\s+")));
            }
        }
        return out;
    }

    @Test
    void everyCommandInDeploy_parses_namesAScenario_shardsAuto_mergesEveryShard() throws IOException {
        List<String> ids = Catalogue.all().stream().map(Scenario::id).toList();
        List<Path> files;
        try (Stream<Path> s = Files.walk(deploy())) {
            files = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".md")).sorted()
                    .toList();
        }
        int explores = 0;
        int merges = 0;
        for (Path f : files) {
            for (List<String> cmd : commands(f)) {
                CommandLine cl = new CommandLine(new Main(Map.of()));
                CommandLine.ParseResult parsed;
                try {
                    parsed = cl.parseArgs(cmd.toArray(String[]::new));
                } catch (CommandLine.ParameterException e) {
                    throw new AssertionError(f + ": " + cmd + ": " + e.getMessage(), e);
                }
                String sub = parsed.subcommand().commandSpec().name();
                if (sub.equals("explore")) {
                    explores++;
                    assertTrue(ids.contains(cmd.get(1)), f + ": unknown scenario " + cmd.get(1));
                    assertEquals("auto", cmd.get(cmd.indexOf("--shard") + 1), f + ": " + cmd);
                    assertTrue(cmd.contains("--exit-zero-on-failure"), f + ": a found failure must not fail the shard");
                } else {
                    assertEquals("merge", sub, f + ": " + cmd);
                    merges++;
                    List<String> shardFiles = cmd.subList(1, cmd.size());
                    assertTrue(shardFiles.stream().allMatch(x -> x.matches(".*S1-vhost-shard-(\\d|\\*)-of-4\\.json")),
                            f + ": merges the 4 shards: " + shardFiles);
                    assertTrue(shardFiles.size() == 4 || shardFiles.size() == 1 && shardFiles.get(0).contains("*"),
                            f + ": " + shardFiles);
                }
            }
        }
        assertEquals(4, explores, "one shard command per engine: " + files);
        assertEquals(4, merges, "one merge per engine: " + files);
        String k8s = Files.readString(deploy().resolve("kubernetes/explore-shards.yaml"));
        assertTrue(k8s.contains("completions: 4") && k8s.contains("parallelism: 4")
                && k8s.contains("- name: HMM4J_SHARD_COUNT\n              value: \"4\""), k8s);
        assertTrue(Files.readString(deploy().resolve("slurm/explore-shards.sbatch")).contains("#SBATCH --array=0-3"));
    }
}
