package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmm4j.explore.replay.FailureFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fault injection into the tool itself (issue 16, item 5), through the command line in one
 * JVM: every hostile driver of {@link HostileDrivers} explored (a runaway loop, each wait
 * outside the model, a deadlock, each throwable kind in a task and in the set-up, a spawn
 * bomb), every hand-edited failure file replayed, every corrupted shard result merged. Each
 * case has its expected report and exit code, and after each one a clean exploration in the
 * same JVM must pass in full: nothing a hostile input does may poison the process. The
 * bounds are set low for the faults (wall clock 1 s, blocked 200 ms, 100 live tasks) to keep
 * the suite short; the clean explorations after them run with the defaults.
 */
class FaultInjectionTest {
    @TempDir
    static Path dir;

    /** The bounds a fault runs under: low, to keep the suite short (the clean runs after it have the defaults). */
    private static final Map<String, String> BOUNDS = Map.of("hmm4j.wallTimeoutMillis", "1000",
            "hmm4j.blockedMillis", "200", "hmm4j.maxTasks", "100");
    private static String recorded;
    private static Path shards;

    @BeforeAll
    static void recordAFailureAndAShardSet() throws Exception {
        Path rec = dir.resolve("recorded");
        Console c = Console.real().run("explore", "S1-kvm-mmgrab", "--out", rec.toString(), "--no-minimise",
                "--workers", "1");
        assertEquals(1, c.exitCode(), c.out() + c.err());
        try (Stream<Path> s = Files.list(rec)) {
            recorded = Files.readString(s.filter(p -> p.getFileName().toString().matches(".*-run\\d+-seed\\d+\\.json"))
                    .findFirst().orElseThrow());
        }
        shards = dir.resolve("shards");
        for (int i = 0; i < 2; i++) {
            Console sh = Console.real().run("explore", "S1-vhost", "--runs", "20", "--shard", i + "/2", "--out",
                    shards.toString());
            assertEquals(0, sh.exitCode(), sh.err());
        }
    }

    /** Runs {@code action} under {@link #BOUNDS}, then restores the properties as they were. */
    private static Console underLowBounds(Action action, Path work) throws Exception {
        Map<String, String> saved = new HashMap<>();
        BOUNDS.forEach((k, v) -> {
            saved.put(k, System.getProperty(k));
            System.setProperty(k, v);
        });
        try {
            return action.run(work);
        } finally {
            saved.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
        }
    }

    /** What a case does in its own directory, through the command line. */
    @FunctionalInterface
    interface Action {
        Console run(Path work) throws Exception;
    }

    /**
     * One fault: what it does, the exit code, and lines the output (standard output and
     * error together) must contain.
     */
    record Case(String name, Action action, int exit, List<String> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Console explore(String id, Path work) {
        return Console.over(HostileDrivers.ALL).run("explore", id, "--runs", "5", "--workers", "1", "--no-minimise",
                "--out", work.toString());
    }

    /** Explores {@code id}: a failure found is also written to its failure file. */
    private static Case explores(String id, int exit, String... expected) {
        List<String> lines = new ArrayList<>(List.of(expected));
        if (expected[0].startsWith("FAIL ")) {
            lines.add("  failure file: ");
        }
        return new Case("explore " + id, w -> explore(id, w), exit, lines);
    }

    /** The recorded failure file with {@code edit} applied, written to {@code work}. */
    private static Path edited(Path work, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode root = (ObjectNode) FailureFiles.json().readTree(recorded);
        edit.accept(root);
        Path p = work.resolve("edited.json");
        Files.writeString(p, FailureFiles.json().writeValueAsString(root));
        return p;
    }

    private static Case replays(String name, Consumer<ObjectNode> edit, int exit, String... expected) {
        return new Case("replay " + name, w -> Console.real().run("replay", edited(w, edit).toString()), exit,
                List.of(expected));
    }

    /** The recorded failure file's text made into {@code text(recorded)}, replayed. */
    private static Case replaysText(String name, UnaryOperator<String> text, int exit,
                                    String... expected) {
        return new Case("replay " + name, w -> {
            Path p = w.resolve("edited.json");
            Files.writeString(p, text.apply(recorded));
            return Console.real().run("replay", p.toString());
        }, exit, List.of(expected));
    }

    /** Both shard results, the first one replaced by {@code text}, merged. */
    private static Case merges(String name, UnaryOperator<String> corrupt, int exit,
                               String... expected) {
        return new Case("merge " + name, w -> {
            Path first = w.resolve("S1-vhost-shard-0-of-2.json");
            Files.writeString(first, corrupt.apply(Files.readString(shards.resolve("S1-vhost-shard-0-of-2.json"))));
            return Console.real().run("merge", first.toString(), shards.resolve("S1-vhost-shard-1-of-2.json")
                    .toString());
        }, exit, List.of(expected));
    }

    private static ArrayNode decisions(ObjectNode root) {
        return root.withArray("decisions");
    }

    static Stream<Arguments> cases() {
        List<Case> all = new ArrayList<>(List.of(
            explores("F-runaway", 1, "FAIL run bound exceeded: wall-clock time limit 1000 (livelock or runaway loop)",
                    "spinner ran 1000 ms without reaching a scheduling point", "step  | spinner (1)"),
            explores("F-sleep", 1, "FAIL run bound exceeded: time blocked outside the model (ms) limit 200 (a task "
                    + "waits on something the model cannot see)", "sleeper waited 200 ms outside the model "
                    + "(TIMED_WAITING in java.lang.Thread.sleep"),
            explores("F-juc-lock", 1, "FAIL run bound exceeded: time blocked outside the model (ms) limit 200",
                    "locker waited 200 ms outside the model (WAITING in jdk.internal.misc.Unsafe.park"),
            explores("F-object-wait", 1, "FAIL run bound exceeded: time blocked outside the model (ms) limit 200",
                    "waiter waited 200 ms outside the model (WAITING in java.lang.Object.wait"),
            explores("F-io", 1, "FAIL run bound exceeded: time blocked outside the model (ms) limit 200",
                    "reader waited 200 ms outside the model (RUNNABLE in sun.nio.ch."),
            explores("F-deadlock", 1, "FAIL deadlock: no task can run, 1 blocked"),
            explores("F-spawn-bomb", 1, "FAIL run bound exceeded: live tasks limit 100 (a spawn bomb or a runaway "
                    + "loop)", "101 tasks alive when b was started")));
        for (String t : HostileDrivers.THROWABLES) {
            String type = switch (t) {
                case "IOException" -> "java.io.IOException";
                default -> "java.lang." + t;
            };
            // The task's frames (the VM's own OutOfMemoryError for a too-large array has none).
            all.add(t.equals("OutOfMemoryError")
                    ? explores("F-task-" + t, 1, "FAIL unexpected exception in thrower: " + type)
                    : explores("F-task-" + t, 1, "FAIL unexpected exception in thrower: " + type,
                            "    at hmm4j.cli.HostileDrivers."));
            all.add(explores("F-setup-" + t, 1, "hmm4j: the set-up of F-setup-" + t + " failed in run 0 (seed 1): "
                    + type));
        }
        all.addAll(List.of(
            replays("as recorded", r -> { }, 0, ": REPRODUCED "),
            replays("lanes 0", r -> r.withObjectProperty("exploration").put("lanes", 0).put("runsBeforeInLane", 3)
                    .put("sharedState", true), 2, "exploration.lanes must be at least 1: 0"),
            replays("a choice not enabled", r -> {
                for (int i = 0; i < decisions(r).size(); i++) {
                    ObjectNode d = (ObjectNode) decisions(r).get(i);
                    if (d.get("enabled").size() == 2) {
                        d.put("chosen", 3);
                        return;
                    }
                }
            }, 1, ": DIVERGED diverged at step ", "the recorded choice, task 3, is not enabled"),
            replays("a choice of another enabled task", r -> {
                for (int i = 0; i < decisions(r).size(); i++) {
                    ObjectNode d = (ObjectNode) decisions(r).get(i);
                    if (d.get("enabled").size() == 2) {
                        int other = d.get("enabled").get(0).asInt() == d.get("chosen").asInt()
                                ? d.get("enabled").get(1).asInt() : d.get("enabled").get(0).asInt();
                        d.put("chosen", other);
                        return;
                    }
                }
            }, 1, ": DIVERGED diverged at step ", "but recorded "),
            replays("decisions cut short", r -> {
                ArrayNode d = decisions(r);
                while (d.size() > 3) {
                    d.remove(d.size() - 1);
                }
            }, 1, ": DIVERGED diverged at step 4: the recorded schedule has only 3 steps"),
            replays("decisions misnumbered", r -> ((ObjectNode) decisions(r).get(1)).put("step", 7), 2,
                    "decisions[1].step is 7, expected 2"),
            replays("another version", r -> r.put("version", "9.9.9"), 0, ": REPRODUCED ",
                    "note: recorded by hmm4j 9.9.9"),
            replays("another format", r -> r.put("format", "hmm4j-failure/7"), 2,
                    "a failure file of format hmm4j-failure/7"),
            replays("a changed seed", r -> r.put("seed", r.get("seed").asLong() + 41), 1, ": DIFFERENT SEED: "),
            replays("a changed verdict kind", r -> r.withObjectProperty("verdict").put("kind", "DEADLOCK"), 1,
                    ": DIFFERENT VERDICT: kind recorded DEADLOCK, replay gave "),
            replays("a changed verdict rule", r -> r.withObjectProperty("verdict").put("rule", "mem.use-after-free"),
                    1, ": DIFFERENT VERDICT: rule recorded mem.use-after-free, replay gave mm.pin"),
            replays("a changed headline", r -> r.withObjectProperty("verdict").put("headline", "edited"), 1,
                    ": DIFFERENT VERDICT: recorded 'edited', replay gave '"),
            replays("an unknown verdict kind", r -> r.withObjectProperty("verdict").put("kind", "NOT_A_KIND"), 2,
                    "verdict.kind 'NOT_A_KIND' is not a verdict hmm4j reports"),
            replays("a field of the wrong type", r -> r.withObjectProperty("exploration").put("runs", "lots"), 2,
                    "field 'exploration.runs' must be a whole number"),
            replays("a run index outside the runs", r -> r.put("runIndex", 1_000_000), 2,
                    "runIndex 1000000 is outside the exploration's 1000 runs"),
            replays("a scenario not in the catalogue", r -> r.put("scenario", "no-such-scenario"), 2,
                    "scenario 'no-such-scenario' is not in the catalogue"),
            replaysText("trailing text", t -> t + "}}", 2, "text after the end of the JSON object"),
            replaysText("not JSON", t -> "this is not a failure file", 2,
                    "not a valid failure file: the text at line 1 is not JSON"),
            replaysText("empty", t -> "", 2, "empty file (expected a failure file)"),
            new Case("replay a missing file", w -> Console.real().run("replay", w.resolve("none.json").toString()), 2,
                    List.of("none.json: no such file")),
            new Case("replay --steps 0", w -> Console.real().run("replay", "--steps", "0", "x.json"), 2,
                    List.of("--steps must be at least 1: 0")),
            new Case("replay a shard result", w -> Console.real().run("replay",
                    shards.resolve("S1-vhost-shard-0-of-2.json").toString()), 2,
                    List.of("this is a shard result, not a failure file")),
            merges("as written", s -> s, 0, "hmm4j merge S1-vhost: PASS no failure (2/2 shards, 20 runs)"),
            merges("truncated", s -> s.substring(0, s.length() / 2), 2,
                    "not a valid shard result: the file ends at line"),
            merges("with trailing text", s -> s + "]", 2, "not a valid shard result"),
            merges("negative runsDone", s -> s.replaceFirst("\"runsDone\" : \\d+", "\"runsDone\" : -1"), 2,
                    "'runsDone' must not be negative"),
            merges("a wrong type", s -> s.replaceFirst("\"lanes\" : \\d+", "\"lanes\" : \"x\""), 2,
                    "'lanes' must be a whole number"),
            merges("a failure file in its place", s -> recorded, 2, "this is a failure file, not a shard result"),
            new Case("merge one of two shards", w -> Console.real().run("merge",
                    shards.resolve("S1-vhost-shard-0-of-2.json").toString()), 1,
                    List.of("incomplete set: 1 of 2 shards of S1-vhost"))));
        return all.stream().map(c -> Arguments.of(c.name(), c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aFault_isReportedWithItsExitCode_andACleanExplorationAfterItPasses(String name, Case c) throws Exception {
        Path work = Files.createDirectories(dir.resolve(name.replaceAll("[^A-Za-z0-9]+", "-")));
        Console r = underLowBounds(c.action(), work);
        String text = r.out() + r.err();
        assertEquals(c.exit(), r.exitCode(), text);
        for (String e : c.expected()) {
            assertTrue(text.contains(e), "expected '" + e + "' in:\n" + text);
        }
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception in thread"), "no stack trace:\n" + text);
        assertTrue(r.err().lines().count() <= 1, "at most one line on standard error:\n" + r.err());
        for (String parserWord : List.of("Unrecognized", "Unexpected", "end-of-input", "token", "[Source", "column")) {
            assertFalse(r.err().contains(parserWord), "in the file's terms, not the JSON parser's:\n" + r.err());
        }

        Console clean = Console.over(HostileDrivers.ALL).run("explore", "S1-vhost", "--runs", "100", "--workers", "1",
                "--out", work.resolve("clean").toString());
        assertEquals(0, clean.exitCode(), clean.out() + clean.err());
        assertTrue(clean.out().startsWith("hmm4j explore S1-vhost: PASS no failure in 100 runs"), clean.out());
    }
}
