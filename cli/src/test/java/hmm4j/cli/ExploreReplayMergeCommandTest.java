package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import hmm4j.explore.replay.FailureFiles;
import hmm4j.explore.report.RunFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hmm4j explore}, {@code hmm4j replay} and {@code hmm4j merge} on the real catalogue. */
class ExploreReplayMergeCommandTest {
    @TempDir
    Path dir;

    private Path onlyFailureFile() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.map(p -> p.getFileName().toString())
                    .filter(n -> n.contains("-run") && n.endsWith(".json") && !n.endsWith(".trace.json"))
                    .map(dir::resolve).toList();
            assertEquals(1, files.size(), files.toString());
            return files.get(0);
        }
    }

    @Test
    void explore_knownBad_printsVerdictReportAndReplayCommand_exit1() throws Exception {
        Console c = Console.real().run("explore", "S1-kvm-mmgrab", "--out", dir.toString(), "--workers", "1");
        assertEquals(1, c.exitCode(), c.err());
        List<String> lines = c.out().lines().toList();
        assertTrue(lines.get(0).startsWith("hmm4j explore S1-kvm-mmgrab: FAIL address space used without mmget"),
                c.out());
        Path file = onlyFailureFile();
        assertTrue(lines.contains("  replay: hmm4j replay " + file), c.out());
        assertTrue(lines.contains("  failure file: " + file), c.out());
        assertTrue(c.out().contains("  found by pct(depth=3"), c.out());
        assertTrue(c.out().contains("  expected: mm.pin (address space used without mmget) ("), c.out());
        assertTrue(c.out().contains("\n\nFAIL address space used without mmget"),
                "the text report follows the header:\n" + c.out());
        assertEquals("", c.err(), "no progress bar when standard error is not a terminal");
        Path html = RunFiles.companions(file)[0];
        Path trace = RunFiles.companions(file)[1];
        assertTrue(lines.contains("  timeline: " + html + " (the minimised run, the run as found a click away; open in "
                + "a browser)"), c.out());
        assertTrue(Files.readString(html).startsWith("<!DOCTYPE html>"), "a self-contained HTML page");
        assertTrue(Files.readString(html).contains("address space used without mmget"));
        assertTrue(Files.readString(html).contains("<p class=\"hint minimised\">The minimised run: the same failure in "
                + "1 context switch (the run as found had 3;"), "the minimised run is the one shown");
        assertTrue(FailureFiles.json().readTree(Files.readString(trace)).has("traceEvents"), "a trace-event file");
    }

    @Test
    void explore_knownGoodWithDfs_reportsExhaustion_exit0() {
        Console c = Console.real().run("explore", "S1-vhost", "--strategy", "dfs:2", "--runs", "100000",
                "--out", dir.toString());
        assertEquals(0, c.exitCode(), c.err());
        assertTrue(c.out().startsWith("hmm4j explore S1-vhost: PASS no failure in "), c.out());
        assertTrue(c.out().lines().findFirst().orElseThrow().contains("space exhausted at bound 2"), c.out());
        assertFalse(c.out().contains("replay:"), c.out());
    }

    @Test
    void explore_badArguments_oneLineExit2() {
        Console unknown = Console.real().run("explore", "NOPE");
        assertEquals(2, unknown.exitCode());
        assertEquals(1, unknown.errLines().size(), unknown.err());
        assertTrue(unknown.err().startsWith("hmm4j: Unknown scenario: 'NOPE' (known: S1-vhost, "), unknown.err());
        Console strategy = Console.real().run("explore", "S1-vhost", "--strategy", "sideways");
        assertEquals(2, strategy.exitCode());
        assertTrue(strategy.err().contains("unknown strategy 'sideways'"), strategy.err());
        Console shard = Console.real().run("explore", "S1-vhost", "--shard", "3/2");
        assertEquals(2, shard.exitCode());
        assertTrue(shard.err().contains("shard index must be in [0, 2)"), shard.err());
        Console dfsShard = Console.real().run("explore", "S1-vhost", "--strategy", "dfs", "--shard", "0/2");
        assertEquals(2, dfsShard.exitCode());
        assertTrue(dfsShard.err().contains("dfs:2 cannot be sharded"), dfsShard.err());
        Console time = Console.real().run("explore", "S1-vhost", "--time", "soon");
        assertEquals(2, time.exitCode());
        assertTrue(time.err().contains("'soon' is not a duration"), time.err());
    }

    @Test
    void replay_reproducesTheFailure_exit0_andTheMinimalSchedule() throws Exception {
        Console.real().run("explore", "S3b-kfd-unwind", "--out", dir.toString());
        Path file = onlyFailureFile();
        Console c = Console.real().run("replay", file.toString());
        assertEquals(0, c.exitCode(), c.out() + c.err());
        assertTrue(c.out().startsWith("hmm4j replay " + file + ": REPRODUCED use-after-free"), c.out());
        assertTrue(c.out().contains("  replay: hmm4j replay " + file + "\n"), c.out());
        Console minimal = Console.real().run("replay", "--minimal", file.toString());
        assertEquals(0, minimal.exitCode(), minimal.out());
        assertTrue(minimal.out().contains("(replaying the minimised "), minimal.out());
    }

    @Test
    void replay_handEditedFile_diverges_exit1() throws Exception {
        Console.real().run("explore", "S3b-kfd-unwind", "--out", dir.toString(), "--no-minimise");
        Path file = onlyFailureFile();
        ObjectNode root = (ObjectNode) FailureFiles.json().readTree(Files.readString(file));
        // Another object under the same name: replay compares the target's number, not the text.
        ObjectNode step5 = (ObjectNode) root.withArray("decisions").get(4);
        step5.put("target", step5.get("target").asInt() + 1000);
        Files.writeString(file, FailureFiles.json().writeValueAsString(root));
        Console c = Console.real().run("replay", file.toString());
        assertEquals(1, c.exitCode());
        assertTrue(c.out().startsWith("hmm4j replay " + file + ": DIVERGED diverged at step 5: operation '"), c.out());
        assertTrue(c.out().contains("but recorded '" + step5.get("op").asText() + "' ("), c.out());
        assertTrue(c.out().contains("on target #" + step5.get("target").asInt() + ", "), c.out());
    }

    @Test
    void replay_badInput_oneLineExit2() throws Exception {
        Console missing = Console.real().run("replay", dir.resolve("none.json").toString());
        assertEquals(2, missing.exitCode());
        assertEquals(List.of("hmm4j: " + dir.resolve("none.json") + ": no such file (see 'hmm4j replay --help')"),
                missing.errLines());
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"format\": ");
        Console c = Console.real().run("replay", bad.toString());
        assertEquals(2, c.exitCode());
        assertEquals(1, c.errLines().size(), c.err());
        assertTrue(c.err().startsWith("hmm4j: " + bad + ": not a valid failure file"), c.err());
        Console.real().run("explore", "S3b-kfd-unwind", "--out", dir.toString(), "--no-minimise");
        Path file = onlyFailureFile();
        ObjectNode root = (ObjectNode) FailureFiles.json().readTree(Files.readString(file));
        root.put("scenario", "S9-gone");
        Files.writeString(file, FailureFiles.json().writeValueAsString(root));
        Console unknown = Console.real().run("replay", file.toString());
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("scenario 'S9-gone' is not in the catalogue"), unknown.err());
    }

    @Test
    void shardsThenMerge_earliestFailureWins() {
        for (int i = 0; i < 3; i++) {
            Console c = Console.real().run("explore", "S3a-hmm-no-grace", "--runs", "300", "--shard", i + "/3",
                    "--out", dir.toString(), "--no-minimise");
            assertTrue(c.out().contains("  shard result: " + dir.resolve("S3a-hmm-no-grace-shard-" + i + "-of-3.json")),
                    c.out());
        }
        Console whole = Console.real().run("explore", "S3a-hmm-no-grace", "--runs", "300", "--out",
                dir.resolve("whole").toString(), "--no-minimise");
        String wholeRun = whole.out().lines().findFirst().orElseThrow().replaceAll(".*\\(run (\\d+), seed.*", "$1");
        Console m = Console.real().run("merge", dir.resolve("S3a-hmm-no-grace-shard-0-of-3.json").toString(),
                dir.resolve("S3a-hmm-no-grace-shard-1-of-3.json").toString(),
                dir.resolve("S3a-hmm-no-grace-shard-2-of-3.json").toString());
        assertEquals(1, m.exitCode(), m.err());
        assertTrue(m.out().startsWith("hmm4j merge S3a-hmm-no-grace: FAIL use-after-free"), m.out());
        assertTrue(m.out().contains("(run " + wholeRun + ", seed "), "the earliest run, as unsharded: " + wholeRun
                + "\n" + m.out());
        assertTrue(m.out().contains("3/3 shards"), m.out());
    }

    @Test
    void merge_badInput_oneLineExit2() throws Exception {
        Console missing = Console.real().run("merge", dir.resolve("x.json").toString());
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().startsWith("hmm4j: " + dir.resolve("x.json") + ": no such file"), missing.err());
        Console none = Console.real().run("merge");
        assertEquals(2, none.exitCode());
    }

    @Test
    void help_ofEachCommand_hasExamples() {
        for (String cmd : List.of("explore", "replay", "merge", "check")) {
            Console c = Console.real().run(cmd, "--help");
            assertEquals(0, c.exitCode());
            assertTrue(c.out().contains("Examples:\n  hmm4j "), cmd + ":\n" + c.out());
        }
        Console main = Console.real().run("--help");
        for (String cmd : List.of("explore", "replay", "merge")) {
            assertTrue(main.out().lines().anyMatch(l -> l.strip().startsWith(cmd + " ")), main.out());
        }
    }

    @Test
    void check_acceptsAStrategy() {
        Console c = Console.real().run("check", "--only", "S1-kvm-mmgrab,S1-vhost", "--strategy", "dfs:2", "--runs", "5000");
        assertEquals(0, c.exitCode(), c.out() + c.err());
        Console bad = Console.real().run("check", "--strategy", "pct:0");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("pct depth must be at least 1"), bad.err());
    }
}
