package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import hmm4j.explore.Version;
import hmm4j.explore.replay.FailureFile;
import hmm4j.explore.replay.FailureFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code hmm4j replay} checks in a failure file, through the command line: each
 * hand-edited or foreign file is refused in one line with exit 2, or replayed and reported as
 * diverged or different (naming the field) with exit 1; never a Java type in a message.
 */
class ReplayCommandChecksTest {
    @TempDir
    Path dir;

    private Path file;
    private ObjectNode root;

    @BeforeEach
    void recordAFailure() throws Exception {
        Console c = Console.real().run("explore", "S1-kvm-mmgrab", "--out", dir.toString(), "--no-minimise",
                "--workers", "1");
        assertEquals(1, c.exitCode(), c.out() + c.err());
        try (Stream<Path> s = Files.list(dir)) {
            file = s.filter(p -> p.getFileName().toString().matches(".*-run\\d+-seed\\d+\\.json")).findFirst()
                    .orElseThrow();
        }
        root = (ObjectNode) FailureFiles.json().readTree(Files.readString(file));
    }

    private Path write(String name) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, FailureFiles.json().writeValueAsString(root));
        return p;
    }

    private static void assertRefused(Console c, String message) {
        assertEquals(2, c.exitCode(), c.out() + c.err());
        assertEquals(List.of("hmm4j: " + message + " (see 'hmm4j replay --help')"), c.errLines());
        assertEquals("", c.out(), "nothing runs");
    }

    @Test
    void stepsBelowOne_isRefusedBeforeAnyWork() {
        assertRefused(Console.real().run("replay", "--steps", "0", file.toString()), "--steps must be at least 1: 0");
        assertRefused(Console.real().run("replay", "--steps", "-3", dir.resolve("none.json").toString()),
                "--steps must be at least 1: -3");
    }

    @Test
    @Timeout(120) // before the fix the lane rebuild looped forever
    void zeroLanes_isRefusedInOneLine() throws Exception {
        root.withObjectProperty("exploration").put("lanes", 0).put("runsBeforeInLane", 3).put("sharedState", true);
        Path p = write("lanes.json");
        assertRefused(Console.real().run("replay", p.toString()), p + ": exploration.lanes must be at least 1: 0");
    }

    @Test
    void aChoiceThatIsNotEnabled_divergesAtItsStep() throws Exception {
        int step = 0;
        for (int i = 0; i < root.withArray("decisions").size(); i++) {
            if (root.withArray("decisions").get(i).get("enabled").size() == 2) {
                step = i + 1;
                break;
            }
        }
        ObjectNode d = (ObjectNode) root.withArray("decisions").get(step - 1);
        d.put("chosen", 3);
        Path p = write("chosen.json");
        Console c = Console.real().run("replay", p.toString());
        assertEquals(1, c.exitCode(), c.err());
        assertTrue(c.out().startsWith("hmm4j replay " + p + ": DIVERGED diverged at step " + step
                + ": the recorded choice, task 3, is not enabled (enabled tasks [1, 2], at " + d.get("op").asText()
                + ")\n"), c.out());
        assertFalse(c.out().contains("sleeping function"), "no fabricated kernel failure");
    }

    @Test
    void anotherVersion_replaysWithANote_anotherFormatIsRefused() throws Exception {
        root.put("version", "9.9.9");
        Path p = write("version.json");
        Console c = Console.real().run("replay", p.toString());
        assertEquals(0, c.exitCode(), c.out() + c.err());
        assertTrue(c.out().startsWith("hmm4j replay " + p + ": REPRODUCED "), c.out());
        assertTrue(c.out().contains("\n  note: recorded by hmm4j 9.9.9, replayed by hmm4j " + Version.current()
                + "; the format " + FailureFile.FORMAT + " is the same, so it replays as recorded\n"), c.out());
        root.put("format", "hmm4j-failure/7");
        Path q = write("format.json");
        assertRefused(Console.real().run("replay", q.toString()), q + ": a failure file of format hmm4j-failure/7 "
                + "(recorded by hmm4j 9.9.9), which hmm4j " + Version.current() + " cannot read (it reads "
                + FailureFile.FORMAT + "); replay it with the version that recorded it, or re-record it");
    }

    @Test
    void trailingText_isRefused() throws Exception {
        Path p = dir.resolve("trailing.json");
        Files.writeString(p, Files.readString(file) + "}}");
        Console c = Console.real().run("replay", p.toString());
        assertEquals(2, c.exitCode());
        assertEquals(1, c.errLines().size(), c.err());
        assertTrue(c.err().startsWith("hmm4j: " + p + ": not a valid failure file: text after the end of the JSON "
                + "object at line "), c.err());
    }

    @Test
    void aChangedSeedOrVerdict_namesTheField_exit1() throws Exception {
        long seed = root.get("seed").asLong();
        root.put("seed", seed + 41);
        Path p = write("seed.json");
        Console c = Console.real().run("replay", p.toString());
        assertEquals(1, c.exitCode(), c.err());
        assertTrue(c.out().startsWith("hmm4j replay " + p + ": DIFFERENT SEED: the file's seed is " + (seed + 41)
                + ", but run 0 of its exploration (first seed 1) has seed " + seed + "\n"), c.out());
        root.put("seed", seed);
        String kind = root.withObjectProperty("verdict").get("kind").asText();
        root.withObjectProperty("verdict").put("kind", "DEADLOCK");
        Path k = write("kind.json");
        c = Console.real().run("replay", k.toString());
        assertEquals(1, c.exitCode(), c.err());
        assertTrue(c.out().startsWith("hmm4j replay " + k + ": DIFFERENT VERDICT: kind recorded DEADLOCK, replay gave "
                + kind + " ('"), c.out());
        root.withObjectProperty("verdict").put("kind", "NOT_A_KIND");
        Path u = write("unknown-kind.json");
        c = Console.real().run("replay", u.toString());
        assertEquals(2, c.exitCode());
        assertTrue(c.err().startsWith("hmm4j: " + u + ": verdict.kind 'NOT_A_KIND' is not a verdict hmm4j reports"),
                c.err());
    }

    @Test
    void aShardResult_orAWrongType_isNamedInTheUsersTerms() throws Exception {
        Console shard = Console.real().run("explore", "S1-kvm-mmgrab", "--shard", "0/2", "--out",
                dir.resolve("shards").toString(), "--no-minimise");
        assertEquals(1, shard.exitCode(), shard.err());
        Path result = dir.resolve("shards").resolve("S1-kvm-mmgrab-shard-0-of-2.json");
        assertRefused(Console.real().run("replay", result.toString()), result + ": this is a shard result, not a "
                + "failure file (join shard results with 'hmm4j merge'; a failing shard names its failure file)");
        root.withObjectProperty("exploration").put("runs", "lots");
        Path p = write("type.json");
        Console c = Console.with(Map.of("HMM4J_DEBUG", "1"), new CheckCommand()).run("replay", p.toString());
        assertEquals(2, c.exitCode());
        assertEquals("hmm4j: " + p + ": not a valid failure file: field 'exploration.runs' must be a whole number "
                + "(see 'hmm4j replay --help')", c.errLines().get(0));
        // HMM4J_DEBUG=1 adds the stack trace after the one line (the CLI's contract); the line itself stays in the file's terms.
        assertFalse(c.errLines().get(0).contains("Cannot deserialize") || c.errLines().get(0).contains("java.lang"),
                c.err());
    }
}
