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

    /** Writes {@code root} as a failure file named {@code name}. */
    private Path write(ObjectNode root, String name) throws Exception {
        Path edited = dir.resolve(name);
        Files.writeString(edited, FailureFiles.json().writeValueAsString(root));
        return edited;
    }

    private ObjectNode tree(Path path) throws Exception {
        return (ObjectNode) FailureFiles.json().readTree(Files.readString(path));
    }

    private static String rejection(Path path) {
        return assertThrows(FailureFiles.BadFailureFileException.class, () -> FailureFiles.read(path)).getMessage();
    }

    @Test
    void handEditedChoice_thatIsNotEnabled_divergesAtThatStep() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        FailureFile f = FailureFiles.read(path);
        FailureFile.Step two = f.decisions().stream().filter(s -> s.enabled().size() == 2).skip(1).findFirst()
                .orElseThrow();
        ReplayResult r = Explorer.replay(edit(path, (int) two.step(), "chosen", 3), ClassicBugs.lostUpdate());
        assertFalse(r.reproduced());
        assertEquals("diverged at step " + two.step() + ": the recorded choice, task 3, is not enabled (enabled tasks "
                + two.enabled() + ", at " + two.op() + ")", r.divergence().orElseThrow());
    }

    /** A failure file of a run that used the lane's shared objects of earlier runs. */
    private Path sharedStateFile() {
        ExplorationResult r = Explorer.explore(ClassicBugs.lockOrderAcrossRuns(true), ExploreOptions.defaults()
                .withStrategy(StrategySpec.RANDOM).withRuns(200).withLanes(2).withWorkers(1).withOutDir(dir));
        FoundFailure f = r.failure().orElseThrow();
        assertTrue(f.usedShared() && f.runsBeforeInLane() > 0, "a run after others in its lane");
        return f.file().orElseThrow();
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // before the fix the lane rebuild looped forever
    void zeroLanes_isRejectedInOneLine_andNeverLoops() throws Exception {
        Path path = sharedStateFile();
        assertTrue(Explorer.replay(path, ClassicBugs.lockOrderAcrossRuns(true)).reproduced());
        ObjectNode root = tree(path);
        root.withObjectProperty("exploration").put("lanes", 0);
        Path zero = write(root, "zero-lanes.json");
        assertTrue(rejection(zero).endsWith("zero-lanes.json: exploration.lanes must be at least 1: 0"), rejection(zero));
        root.withObjectProperty("exploration").put("lanes", 2).put("lane", 1 - root.withObjectProperty("exploration").get("lane").asInt());
        Path otherLane = write(root, "other-lane.json");
        FailureFiles.BadFailureFileException e = assertThrows(FailureFiles.BadFailureFileException.class,
                () -> Explorer.replay(otherLane, ClassicBugs.lockOrderAcrossRuns(true)));
        assertTrue(e.getMessage().startsWith("exploration: run " + FailureFiles.read(path).runIndex() + " is run "),
                e.getMessage());
    }

    @Test
    void runPlan_refusesZeroLanes_andTheRebuildIsBounded() {
        assertThrows(IllegalArgumentException.class, () -> new RunPlan(StrategySpec.RANDOM, 1, 10, Shard.ALL, 0, 0));
        RunPlan plan = new RunPlan(StrategySpec.RANDOM, 1, 10, Shard.ALL, 2, 0);
        assertEquals(null, plan.placeProblem(7, 1, 3));
        assertEquals("run 7 is run 3 of lane 1 of the exploration (2 lanes), not run 2 of lane 1",
                plan.placeProblem(7, 1, 2));
        ExplorationException e = assertThrows(ExplorationException.class,
                () -> Runs.rebuild(ClassicBugs.lostUpdate(), plan, 0, 7, 1000));
        assertEquals("cannot rebuild run 7: lane 0 of the exploration has no such run", e.getMessage());
        assertEquals("run 3 is not in shard 1/3",
                new RunPlan(StrategySpec.RANDOM, 1, 10, new Shard(1, 3), 2, 0).placeProblem(3, 0, 0));
    }

    @Test
    void aFileOfAnotherVersion_replaysWithANote_andAnotherFormatIsRefused() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        assertEquals(java.util.Optional.empty(), FailureFiles.versionNote(FailureFiles.read(path)));
        ObjectNode root = tree(path);
        root.put("version", "9.9.9");
        Path other = write(root, "other-version.json");
        FailureFile f = FailureFiles.read(other);
        assertEquals("note: recorded by hmm4j 9.9.9, replayed by hmm4j " + Version.current() + "; the format "
                + FailureFile.FORMAT + " is the same, so it replays as recorded", FailureFiles.versionNote(f).orElseThrow());
        assertTrue(Explorer.replay(f, ClassicBugs.lostUpdate(), false).reproduced());
        root.put("format", "hmm4j-failure/3");
        Path future = write(root, "future.json");
        assertTrue(rejection(future).endsWith("future.json: a failure file of format hmm4j-failure/3 (recorded by "
                + "hmm4j 9.9.9), which hmm4j " + Version.current() + " cannot read (it reads hmm4j-failure/2); replay it "
                + "with the version that recorded it, or re-record it"), rejection(future));
        root.remove("version");
        root.put("format", FailureFile.FORMAT);
        assertTrue(rejection(write(root, "no-version.json")).endsWith("incomplete failure file (needs version)"));
    }

    @Test
    void trailingGarbage_isRefused() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        Path garbage = dir.resolve("trailing.json");
        Files.writeString(garbage, Files.readString(path) + "garbage\n");
        assertTrue(rejection(garbage).endsWith("trailing.json: not a valid failure file: text after the end of the "
                + "JSON object at line " + (Files.readString(path).lines().count() + 1)), rejection(garbage));
        Files.writeString(garbage, Files.readString(path) + "{}");
        assertTrue(rejection(garbage).contains("text after the end of the JSON object"), rejection(garbage));
        Files.writeString(garbage, Files.readString(path) + "\n\n  \n");
        assertTrue(FailureFiles.read(garbage).decisions().size() > 0, "white space after the object is fine");
    }

    @Test
    void aChangedSeed_isNamed() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        FailureFile f = FailureFiles.read(path);
        ObjectNode root = tree(path);
        root.put("seed", f.seed() + 76);
        ReplayResult r = Explorer.replay(write(root, "seed.json"), ClassicBugs.lostUpdate());
        assertFalse(r.reproduced());
        assertEquals("DIFFERENT SEED: the file's seed is " + (f.seed() + 76) + ", but run " + f.runIndex()
                + " of its exploration (first seed 1) has seed " + f.seed(), r.verdictLine());
        root.put("seed", f.seed());
        root.withObjectProperty("strategy").withObjectProperty("parameters").put("seed", 5);
        r = Explorer.replay(write(root, "strategy-seed.json"), ClassicBugs.lostUpdate());
        assertEquals("DIFFERENT SEED: the file's seed is " + f.seed() + ", but strategy.parameters.seed is 5",
                r.verdictLine());
    }

    @Test
    void aChangedVerdictKindOrRule_isNamed_andAnUnknownKindIsRefused() throws Exception {
        Path path = failureFile(ClassicBugs.lostUpdate(), "random");
        FailureFile f = FailureFiles.read(path);
        assertEquals("INVARIANT_VIOLATION", f.verdict().kind());
        assertTrue(f.verdict().rule() != null && !f.verdict().rule().isBlank(), "the rule is recorded");
        ObjectNode root = tree(path);
        root.withObjectProperty("verdict").put("kind", "DEADLOCK");
        ReplayResult r = Explorer.replay(write(root, "kind.json"), ClassicBugs.lostUpdate());
        assertFalse(r.reproduced());
        assertEquals("DIFFERENT VERDICT: kind recorded DEADLOCK, replay gave INVARIANT_VIOLATION ('"
                + f.verdict().headline() + "')", r.verdictLine());
        root.withObjectProperty("verdict").put("kind", "INVARIANT_VIOLATION").put("rule", "mem.use-after-free");
        r = Explorer.replay(write(root, "rule.json"), ClassicBugs.lostUpdate());
        assertEquals("DIFFERENT VERDICT: rule recorded mem.use-after-free, replay gave " + f.verdict().rule() + " ('"
                + f.verdict().headline() + "')", r.verdictLine());
        root.withObjectProperty("verdict").put("kind", "BOGUS");
        assertTrue(rejection(write(root, "bogus.json")).contains("verdict.kind 'BOGUS' is not a verdict hmm4j reports"
                + " (one of USE_AFTER_FREE, "), "unknown kind");
        root.withObjectProperty("verdict").put("kind", "INVARIANT_VIOLATION").remove("rule");
        assertTrue(Explorer.replay(write(root, "no-rule.json"), ClassicBugs.lostUpdate()).reproduced(),
                "a file without a rule (written before rules were recorded) compares kind and headline");
    }

    @Test
    void aShardResult_orAWrongField_isNamedInTheFilesTerms() throws Exception {
        ExplorationResult r = Explorer.explore(ClassicBugs.lostUpdate(), ExploreOptions.defaults()
                .withStrategy(StrategySpec.RANDOM).withRuns(300).withShard(new Shard(0, 2)).withOutDir(dir));
        Path shard = dir.resolve("shard.json");
        hmm4j.explore.shard.ShardMerge.write(hmm4j.explore.shard.ShardResult.of(r), shard);
        assertTrue(rejection(shard).endsWith("shard.json: this is a shard result, not a failure file (join shard "
                + "results with 'hmm4j merge'; a failing shard names its failure file)"), rejection(shard));
        Path shardTrailing = dir.resolve("shard-trailing.json");
        Files.writeString(shardTrailing, Files.readString(shard) + "]");
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
                () -> hmm4j.explore.shard.ShardMerge.read(shardTrailing));
        assertTrue(t.getMessage().contains("shard-trailing.json: not a valid shard result: text after the end of the "
                + "JSON object"), t.getMessage());
        Path file = r.failure().orElseThrow().file().orElseThrow();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> hmm4j.explore.shard.ShardMerge.read(file));
        assertTrue(e.getMessage().contains(": this is a failure file, not a shard result (replay it with "
                + "'hmm4j replay'"), e.getMessage());
        ObjectNode root = tree(file);
        root.withObjectProperty("exploration").put("lanes", "many");
        String m = rejection(write(root, "lanes-text.json"));
        assertTrue(m.endsWith("lanes-text.json: not a valid failure file: field 'exploration.lanes' must be a whole "
                + "number"), m);
        root = tree(file);
        ((ObjectNode) root.withArray("decisions").get(2)).remove("kind");
        m = rejection(write(root, "no-kind.json"));
        assertTrue(m.endsWith("no-kind.json: not a valid failure file: field 'decisions[2]': missing kind"), m);
        root = tree(file);
        ((ObjectNode) root.withArray("decisions").get(2)).put("step", 9);
        m = rejection(write(root, "step.json"));
        assertTrue(m.endsWith("step.json: decisions[2].step is 9, expected 3 (decisions are numbered from 1, one per "
                + "step)"), m);
    }

    @Test
    void strategyParameters_areWrittenWithSortedKeys_whateverTheMapOrder() {
        java.util.Map<String, Object> reversed = new java.util.LinkedHashMap<>();
        for (String k : List.of("seed", "run", "preemptionBound", "runLength", "lambda", "kappa", "gamma", "depth")) {
            reversed.put(k, k.length());
        }
        FailureFile f = new FailureFile(FailureFile.FORMAT, "1", "x", new FailureFile.StrategyInfo("pct:3", "pct",
                reversed), 1, 0, new FailureFile.Bounds(10), null, new FailureFile.Verdict("DEADLOCK", "d"), 1,
                List.of("t"), List.of(), null);
        String json = FailureFiles.toJson(f);
        String parameters = json.substring(json.indexOf("\"parameters\""), json.indexOf('}', json.indexOf("\"parameters\"")));
        List<String> keys = parameters.lines().map(String::strip).filter(l -> l.matches("\"[a-zA-Z]+\" : \\d+,?"))
                .map(l -> l.substring(1, l.indexOf('"', 1))).filter(reversed::containsKey).toList();
        assertEquals(reversed.keySet().stream().sorted().toList(), keys, json);
    }
}
