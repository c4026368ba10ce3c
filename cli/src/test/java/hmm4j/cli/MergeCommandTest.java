package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import hmm4j.explore.replay.FailureFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hmm4j merge}: incomplete sets, impossible values, and a failure file given as a shard. */
class MergeCommandTest {
    @TempDir
    Path dir;

    private Path shard(int i) {
        return dir.resolve("S1-vhost-shard-" + i + "-of-4.json");
    }

    @BeforeEach
    void fourShards() {
        for (int i = 0; i < 4; i++) {
            Console c = Console.real().run("explore", "S1-vhost", "--runs", "40", "--shard", i + "/4",
                    "--out", dir.toString());
            assertEquals(0, c.exitCode(), c.err());
        }
    }

    @Test
    void wholeSet_exit0() {
        Console c = Console.real().run("merge", shard(0).toString(), shard(1).toString(), shard(2).toString(),
                shard(3).toString());
        assertEquals(0, c.exitCode(), c.err());
        assertTrue(c.out().startsWith("hmm4j merge S1-vhost: PASS no failure (4/4 shards, 40 runs)"), c.out());
    }

    @Test
    void twoOfFour_refusedNamingTheMissingShards_exit1() {
        Console c = Console.real().run("merge", shard(0).toString(), shard(2).toString());
        assertEquals(1, c.exitCode(), c.out());
        assertEquals(List.of("hmm4j: incomplete set: 2 of 4 shards of S1-vhost; no result for shards 1/4, 3/4 "
                + "(merge them too, or pass --allow-partial)"), c.errLines());
        assertEquals("", c.out(), "no PASS verdict for an incomplete set");
    }

    @Test
    void twoOfFour_withAllowPartial_mergesAndSaysWhatIsMissing_exit0() {
        Console c = Console.real().run("merge", "--allow-partial", shard(0).toString(), shard(2).toString());
        assertEquals(0, c.exitCode(), c.err());
        assertTrue(c.out().startsWith("hmm4j merge S1-vhost: PASS no failure (2/4 shards, 20 runs; missing shards "),
                c.out());
        assertTrue(c.out().contains("  incomplete: no result for shards 1/4, 3/4 (--allow-partial)"), c.out());
    }

    private Console mergeEdited(String field, int value) throws Exception {
        ObjectNode root = (ObjectNode) FailureFiles.json().readTree(Files.readString(shard(1)));
        root.put(field, value);
        Files.writeString(shard(1), FailureFiles.json().writeValueAsString(root));
        return Console.real().run("merge", shard(0).toString(), shard(1).toString(), shard(2).toString(),
                shard(3).toString());
    }

    @Test
    void negativeRunsDone_rejected_exit2() throws Exception {
        Console c = mergeEdited("runsDone", -5);
        assertEquals(2, c.exitCode(), c.out());
        assertEquals(List.of("hmm4j: " + shard(1) + ": not a valid shard result: 'runsDone' must not be negative "
                + "(got -5) (see 'hmm4j merge --help')"), c.errLines());
        assertEquals("", c.out());
    }

    @Test
    void moreRunsDoneThanTheShardHas_rejected_exit2() throws Exception {
        Console c = mergeEdited("runsDone", 11);
        assertEquals(2, c.exitCode(), c.out());
        assertTrue(c.err().contains("'runsDone' 11 is more than the 10 runs of shard 1/4"), c.err());
    }

    @Test
    void wrongType_namesTheField_notJackson() throws Exception {
        ObjectNode root = (ObjectNode) FailureFiles.json().readTree(Files.readString(shard(1)));
        root.put("lanes", "sixteen");
        Files.writeString(shard(1), FailureFiles.json().writeValueAsString(root));
        Console c = Console.real().run("merge", shard(1).toString());
        assertEquals(2, c.exitCode(), c.out());
        assertEquals(List.of("hmm4j: " + shard(1) + ": not a valid shard result: 'lanes' must be a whole number "
                + "(see 'hmm4j merge --help')"), c.errLines());
        assertFalse(c.err().contains("Cannot deserialize"), c.err());
    }

    @Test
    void failureFile_isRecognisedAsSuch_exit2() throws Exception {
        Path failures = dir.resolve("failures");
        Console found = Console.real().run("explore", "S1-kvm-mmgrab", "--out", failures.toString(), "--workers", "1");
        assertEquals(1, found.exitCode(), found.err());
        Path file;
        try (Stream<Path> s = Files.list(failures)) {
            file = s.filter(p -> p.getFileName().toString().matches(".*-run\\d+-seed\\d+\\.json")).findFirst()
                    .orElseThrow();
        }
        Console c = Console.real().run("merge", file.toString());
        assertEquals(2, c.exitCode(), c.out());
        assertEquals(1, c.errLines().size(), c.err());
        assertTrue(c.err().startsWith("hmm4j: " + file + ": this is a failure file, not a shard result (replay it "
                + "with 'hmm4j replay'"), c.err());
    }
}
