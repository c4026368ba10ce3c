package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hmm4j.explore.replay.FailureFile;
import hmm4j.explore.replay.FailureFiles;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.Op;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayTest {
    @TempDir
    Path dir;

    private Path failureFile(ExploreTarget target, String strategy) {
        ExplorationResult r = Explorer.explore(target, ExploreOptions.defaults()
                .withStrategy(StrategySpec.parse(strategy)).withRuns(300).withOutDir(dir));
        return r.failure().orElseThrow().file().orElseThrow();
    }

    @Test
    void failureFile_holdsVersionScenarioStrategySeedBoundsAndEveryDecision() {
        Path path = failureFile(ClassicBugs.lostUpdate(), "pct:3");
        FailureFile f = FailureFiles.read(path);
        assertEquals(FailureFile.FORMAT, f.format());
        assertFalse(f.version().isBlank());
        assertFalse(f.version().contains("${"), f.version());
        assertEquals("lost-update", f.scenario());
        assertEquals("pct:3", f.strategy().spec());
        assertTrue(f.strategy().description().startsWith("pct(depth=3, steps="), f.strategy().description());
        assertEquals(3, ((Number) f.strategy().parameters().get("depth")).intValue());
        assertEquals(1 + f.runIndex(), f.seed());
        assertEquals(ExploreOptions.DEFAULT_MAX_STEPS, f.bounds().maxSteps());
        assertEquals("INVARIANT_VIOLATION", f.verdict().kind());
        assertEquals(f.steps(), f.decisions().size());
        assertEquals(List.of("inc0", "inc1"), f.tasks());
        FailureFile.Step first = f.decisions().get(0);
        assertEquals(1, first.step());
        assertEquals("start", first.op());
        assertEquals("start", first.kind());
        assertEquals("machine", first.targetLabel());
        assertEquals(List.of(1, 2), first.enabled());
        assertTrue(f.decisions().stream().anyMatch(s -> s.op().startsWith("READ_ONCE(count)")
                && s.site().contains("ClassicBugs")), "operations carry the code site that reached them");
        FailureFile.Step read = f.decisions().stream().filter(s -> s.op().equals("READ_ONCE(count)")).findFirst()
                .orElseThrow();
        assertEquals("READ_ONCE", read.kind());
        assertEquals(Op.Access.READ, read.access());
        assertEquals("count", read.targetLabel());
        assertTrue(f.decisions().stream().anyMatch(s -> s.op().equals("WRITE_ONCE(count)") && s.target() == read.target()
                && s.access() == Op.Access.WRITE), "the write of the counter has the read's target");
        assertNotNull(f.minimal());
        assertEquals(1, f.minimal().preemptions(), "a lost update needs exactly one preemption");
        assertTrue(Explorer.fileName("lost-update", new RunPlan.PlannedRun(f.runIndex(), f.seed(), null, 0, 0))
                .equals(path.getFileName().toString()));
    }

    @Test
    void replay_givesTheIdenticalTrace_100Times() {
        Path path = failureFile(ClassicBugs.lostWakeUp(), "portfolio");
        ReplayResult first = Explorer.replay(path, ClassicBugs.lostWakeUp());
        assertTrue(first.reproduced(), first.verdictLine());
        List<TraceEvent> trace = first.run().trace();
        assertFalse(trace.isEmpty());
        for (int i = 0; i < 100; i++) {
            ReplayResult again = Explorer.replay(path, ClassicBugs.lostWakeUp());
            assertTrue(again.reproduced(), again.verdictLine());
            assertEquals(trace, again.run().trace(), "replay " + i);
            assertEquals(first.run().decisions(), again.run().decisions(), "replay " + i);
        }
    }

    @Test
    void replay_reportsTheRecordingStrategy() {
        Path path = failureFile(ClassicBugs.checkThenAct(), "pos");
        RunResult r = Explorer.replay(path, ClassicBugs.checkThenAct()).run();
        assertTrue(r.strategy().startsWith("pos(seed="), r.strategy());
    }

    /** Edits one field of one decision of the file's JSON. */
    private Path edit(Path path, int step, String field, Object value) throws Exception {
        ObjectNode root = (ObjectNode) FailureFiles.json().readTree(Files.readString(path));
        ObjectNode d = (ObjectNode) root.withArray("decisions").get(step - 1);
        if (value instanceof String s) {
            d.put(field, s);
        } else if (value instanceof Integer i) {
            d.put(field, i);
        } else {
            ArrayNode a = d.putArray(field);
            for (Object o : (List<?>) value) {
                a.add((Integer) o);
            }
        }
        Path edited = dir.resolve("edited-" + step + "-" + field + ".json");
        Files.writeString(edited, FailureFiles.json().writeValueAsString(root));
        return edited;
    }

    @Test
    void handEditedTarget_reportsDivergenceAtThatStep() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        Path edited = edit(path, 3, "target", 999);
        ReplayResult r = Explorer.replay(edited, ClassicBugs.lostUpdate());
        assertFalse(r.reproduced());
        String d = r.divergence().orElseThrow();
        assertTrue(d.startsWith("diverged at step 3: operation '"), d);
        assertTrue(d.contains("but recorded '") && d.contains("on target #999, "), d);
        assertTrue(r.verdictLine().startsWith("DIVERGED diverged at step 3"), r.verdictLine());
    }

    @Test
    void handEditedKind_reportsDivergenceAtThatStep() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        ReplayResult r = Explorer.replay(edit(path, 3, "kind", "atomic_inc"), ClassicBugs.lostUpdate());
        assertTrue(r.divergence().orElseThrow().startsWith("diverged at step 3: operation '"), r.verdictLine());
        r = Explorer.replay(edit(path, 3, "access", FailureFiles.read(path).decisions().get(2).access() == Op.Access.READ
                ? "WRITE" : "READ"), ClassicBugs.lostUpdate());
        assertTrue(r.divergence().orElseThrow().startsWith("diverged at step 3: operation '"), r.verdictLine());
    }

    @Test
    void handEditedLabels_areForPeople_andNotCompared() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        Path edited = edit(edit(path, 3, "op", "WRITE_ONCE(somewhere else)"), 3, "targetLabel", "somewhere else");
        ReplayResult r = Explorer.replay(edited, ClassicBugs.lostUpdate());
        assertTrue(r.reproduced(), r.verdictLine());
    }

    @Test
    void aFileOfTheFirstFormat_mustBeReRecorded() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        ObjectNode root = (ObjectNode) FailureFiles.json().readTree(Files.readString(path));
        root.put("format", FailureFile.FORMAT_1);
        Path old = dir.resolve("format-1.json");
        Files.writeString(old, FailureFiles.json().writeValueAsString(root));
        FailureFiles.BadFailureFileException e = assertThrows(FailureFiles.BadFailureFileException.class,
                () -> FailureFiles.read(old));
        assertTrue(e.getMessage().endsWith("format-1.json: a failure file of format hmm4j-failure/1, which names "
                + "operations by their text only; re-record it with this version (format hmm4j-failure/2)"),
                e.getMessage());
    }

    @Test
    void handEditedEnabledSet_reportsDivergenceAtThatStep() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        Path edited = edit(path, 2, "enabled", List.of(2));
        ReplayResult r = Explorer.replay(edited, ClassicBugs.lostUpdate());
        String d = r.divergence().orElseThrow();
        assertTrue(d.startsWith("diverged at step 2: enabled tasks [1, 2] but recorded [2]"), d);
    }

    @Test
    void truncatedSchedule_reportsDivergence() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        ObjectNode root = (ObjectNode) FailureFiles.json().readTree(Files.readString(path));
        ArrayNode decisions = root.withArray("decisions");
        int n = decisions.size();
        decisions.remove(n - 1);
        Path edited = dir.resolve("truncated.json");
        Files.writeString(edited, FailureFiles.json().writeValueAsString(root));
        ReplayResult r = Explorer.replay(edited, ClassicBugs.lostUpdate());
        assertTrue(r.divergence().orElseThrow().startsWith("diverged at step " + n + ": the recorded schedule has only "),
                r.divergence().get());
    }

    @Test
    void replayOnAnotherProgram_diverges() {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        ReplayResult r = Explorer.replay(path, ClassicBugs.checkThenAct());
        assertTrue(r.divergence().isPresent(), r.verdictLine());
    }

    @Test
    void minimalSchedule_replaysToTheSameFailure() {
        Path path = failureFile(ClassicBugs.twoPreemptions(), "random");
        FailureFile f = FailureFiles.read(path);
        assertEquals(2, f.minimal().preemptions(), "the bug needs exactly two preemptions");
        assertTrue(f.minimal().contextSwitches() <= f.minimal().originalContextSwitches());
        ReplayResult r = Explorer.replay(f, ClassicBugs.twoPreemptions(), true);
        assertTrue(r.reproduced(), r.verdictLine());
    }

    @Test
    void badFiles_failWithOneLine() throws Exception {
        FailureFiles.BadFailureFileException e = assertThrows(FailureFiles.BadFailureFileException.class,
                () -> FailureFiles.read(dir.resolve("missing.json")));
        assertTrue(e.getMessage().endsWith("missing.json: no such file"), e.getMessage());
        Path garbage = dir.resolve("garbage.json");
        Files.writeString(garbage, "{ this is not json");
        e = assertThrows(FailureFiles.BadFailureFileException.class, () -> FailureFiles.read(garbage));
        assertTrue(e.getMessage().contains("not a valid failure file"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        Path foreign = dir.resolve("foreign.json");
        Files.writeString(foreign, "{\"name\": \"x\"}");
        e = assertThrows(FailureFiles.BadFailureFileException.class, () -> FailureFiles.read(foreign));
        assertTrue(e.getMessage().contains("not an hmm4j failure file"), e.getMessage());
    }
}
