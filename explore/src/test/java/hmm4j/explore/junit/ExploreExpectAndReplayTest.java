package hmm4j.explore.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * The reporting side of {@code @Explore}, run through the JUnit engine: the line of a passing
 * test, the files next to a failure file, {@code expect} (matched, not found, found for another
 * rule, invalid) and replay (another test's file, a file whose failure was fixed).
 */
class ExploreExpectAndReplayTest {
    private static final Rule LOST_UPDATE = Rule.own("test.lost-update", FailureKind.INVARIANT_VIOLATION, "lost update");
    private static final Mark SAW_OTHER = Mark.of("test.saw-other", "an update read the other one's value");

    @TempDir
    Path dir;

    @BeforeEach
    void failuresHere() {
        System.setProperty(ExploreExtension.FAILURES_PROPERTY, dir.toString());
        Designs.mode = Mode.RACY;
    }

    @AfterEach
    void clearProperties() {
        System.clearProperty(ExploreExtension.FAILURES_PROPERTY);
        System.clearProperty(ExploreExtension.REPLAY_PROPERTY);
        Designs.mode = Mode.RACY;
    }

    /** How {@link Designs#counter} is built: racy, fixed with a lock, or with its check relaxed. */
    enum Mode { RACY, LOCKED, CHECK_RELAXED }

    /** A driver's known-bad and known-good designs. */
    static class Designs {
        static volatile Mode mode = Mode.RACY;

        /** Two updates of one counter; RACY loses one in some interleavings. */
        static void counter(Kernel k, boolean locked, boolean checked) {
            Mutex m = locked ? new Mutex(k, "lock") : null;
            Cell<Integer> count = new Cell<>(k, "count", 0);
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("irq" + i, self -> {
                    if (m != null) {
                        m.lock();
                    }
                    int seen = count.readOnce();
                    if (seen == 1) {
                        k.mark(SAW_OTHER);
                    }
                    count.writeOnce(seen + 1);
                    if (m != null) {
                        m.unlock();
                    }
                });
            }
            k.atQuiescence("no lost update", () -> {
                if (checked && count.peek() != 2) {
                    k.report(new Failure.InvariantViolation(LOST_UPDATE, "count is " + count.peek(), k.site()));
                }
            });
        }

        @Explore(runs = 200, workers = 2, expect = "test.lost-update")
        void lostUpdateCaught(Kernel k) {
            counter(k, false, true);
        }

        @Explore(runs = 200, workers = 2, expect = "INVARIANT_VIOLATION")
        void lostUpdateCaughtByKind(Kernel k) {
            counter(k, false, true);
        }

        @Explore(runs = 40, expect = "test.lost-update")
        void lockedIsNotCaught(Kernel k) {
            counter(k, true, true);
        }

        @Explore(runs = 200, workers = 2, expect = "test.torn-write")
        void caughtForAnotherRule(Kernel k) {
            counter(k, false, true);
        }

        @Explore(expect = "DEADLOK")
        void unknownKind(Kernel k) {
        }

        @Explore(expect = "Lost Update")
        void malformedRule(Kernel k) {
        }

        @Explore(runs = 0)
        void noRuns(Kernel k) {
        }

        @Explore(runs = 30, strategy = "pct:2", seed = 7, workers = 2)
        void lockedPasses(Kernel k) {
            counter(k, true, true);
        }

        @Explore(runs = 200, workers = 2)
        void laterFixed(Kernel k) {
            counter(k, mode == Mode.LOCKED, mode != Mode.CHECK_RELAXED);
        }
    }

    private static EngineExecutionResults run(String method) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectMethod(Designs.class, method, Kernel.class.getName()))
                .execute();
    }

    private static Throwable failureOf(EngineExecutionResults r) {
        List<Event> failed = r.testEvents().failed().list();
        assertEquals(1, failed.size(), "one failing test");
        return failed.get(0).getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
    }

    private static Map<String, String> entries(EngineExecutionResults r) {
        List<Event> published = r.allEvents().reportingEntryPublished().list();
        assertEquals(1, published.size(), "one report entry event");
        return published.get(0).getPayload(ReportEntry.class).orElseThrow().getKeyValuePairs();
    }

    private Path failureFile() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> json = files.filter(p -> p.getFileName().toString().matches(".*-seed\\d+\\.json")).toList();
            assertEquals(1, json.size(), "one failure file: " + json);
            return json.get(0);
        }
    }

    @Test
    void passingTest_printsAndPublishesOneLineWithRunsMarksStrategyAndSeeds() {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        EngineExecutionResults r;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            r = run("lockedPasses");
        } finally {
            System.setOut(out);
        }
        r.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        String line = "hmm4j explore hmm4j.explore.junit.ExploreExpectAndReplayTest$Designs#lockedPasses: "
                + "30 runs, no failure, marks hit 1: test.saw-other (30 runs); strategy pct:2, seeds 7..36";
        Map<String, String> e = entries(r);
        assertEquals(line, e.get("hmm4j"));
        assertEquals("30", e.get("hmm4j.runs"));
        assertEquals("pct:2", e.get("hmm4j.strategy"));
        assertEquals("7..36", e.get("hmm4j.seeds"));
        assertEquals("test.saw-other (30 runs)", e.get("hmm4j.marks"));
        assertFalse(e.containsKey("hmm4j.failure"), e.toString());
        assertTrue(captured.toString(StandardCharsets.UTF_8).contains(line + System.lineSeparator()),
                "the line is on standard output, for the JUnit XML's system-out: " + captured);
    }

    @Test
    void failingTest_writesTimelineTraceAndMinimisedRunNextToItsFailureFile() throws Exception {
        Throwable t = failureOf(run("laterFixed"));
        Path file = failureFile();
        String base = file.toString().substring(0, file.toString().length() - ".json".length());
        Path html = Path.of(base + ".html");
        Path trace = Path.of(base + ".trace.json");
        String html0 = Files.readString(html);
        assertTrue(html0.startsWith("<!DOCTYPE html>") && html0.contains("lost update"), "the timeline: " + html);
        assertTrue(Files.readString(trace).contains("\"traceEvents\""), "the Perfetto trace: " + trace);
        String m = t.getMessage();
        assertTrue(m.contains("\n  failure file: " + file + "\n"), m);
        assertTrue(m.contains("\n  replay: mvn test -Dtest='Designs#laterFixed' -Dhmm4j.replay=" + file.toAbsolutePath()), m);
        assertTrue(m.contains("\n  timeline: " + html + " "), m);
        assertTrue(m.contains("\n  trace: " + trace + " "), m);
        assertTrue(m.contains("\n  minimised: ") || m.contains("\n  minimal: "), "the minimisation's summary: " + m);
        Path minimal = Path.of(base + ".minimal.txt");
        assertEquals(m.contains("\n  minimised: "), Files.exists(minimal), "the minimised run is written when smaller");
        if (Files.exists(minimal)) {
            assertTrue(m.endsWith(Files.readString(minimal)), "the message ends with the minimised run's report");
        }
        Map<String, String> e = entries(run("laterFixed"));
        assertEquals(file.toString(), e.get("hmm4j.failureFile"));
        assertTrue(e.get("hmm4j.failure").startsWith("invariant violated: lost update"), e.toString());
        assertTrue(e.get("hmm4j").contains(": FAIL invariant violated: lost update") && e.get("hmm4j")
                .endsWith("; failure file " + file), e.get("hmm4j"));
    }

    @Test
    void expect_ruleFound_passesAndSaysSo() throws Exception {
        EngineExecutionResults r = run("lostUpdateCaught");
        r.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
        Map<String, String> e = entries(r);
        assertTrue(e.get("hmm4j").contains("#lostUpdateCaught: found the expected failure (rule test.lost-update): "
                + "invariant violated: lost update"), e.get("hmm4j"));
        assertEquals("test.lost-update", e.get("hmm4j.expect"));
        Path file = failureFile();
        assertTrue(Files.exists(RunFilesOf.html(file)), "its timeline is written too");
    }

    @Test
    void expect_kindFound_passes() {
        EngineExecutionResults r = run("lostUpdateCaughtByKind");
        r.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
        assertTrue(entries(r).get("hmm4j").contains(": found the expected failure (kind INVARIANT_VIOLATION): "
                + "invariant violated: lost update"), entries(r).toString());
    }

    @Test
    void expect_nothingFound_failsNamingTheBudget() {
        Throwable t = failureOf(run("lockedIsNotCaught"));
        assertTrue(t instanceof AssertionError, t.toString());
        assertTrue(t.getMessage().startsWith("hmm4j explore hmm4j.explore.junit.ExploreExpectAndReplayTest$Designs"
                + "#lockedIsNotCaught: expected a failure of rule test.lost-update, none found in 40 runs (strategy "
                + "portfolio, seeds 1..40): the design was not caught within the budget"), t.getMessage());
    }

    @Test
    void expect_foundForAnotherRule_fails() {
        Throwable t = failureOf(run("caughtForAnotherRule"));
        assertTrue(t instanceof AssertionError, t.toString());
        assertTrue(t.getMessage().startsWith("found for another reason: expected a failure of rule test.torn-write, "
                + "found rule test.lost-update (kind INVARIANT_VIOLATION): invariant violated: lost update"), t.getMessage());
        assertTrue(t.getMessage().contains("\n  replay: mvn test"), "with the whole report: " + t.getMessage());
    }

    @Test
    void expect_invalidValues_areConfigurationErrorsNamingTheAttribute() {
        Throwable kind = failureOf(run("unknownKind"));
        assertTrue(kind instanceof ExtensionConfigurationException, kind.toString());
        assertTrue(kind.getMessage().startsWith("@Explore(expect = \"DEADLOK\") on unknownKind: unknown failure kind "
                + "'DEADLOK' (known: USE_AFTER_FREE, "), kind.getMessage());
        Throwable rule = failureOf(run("malformedRule"));
        assertTrue(rule instanceof ExtensionConfigurationException, rule.toString());
        assertTrue(rule.getMessage().startsWith("@Explore(expect = \"Lost Update\") on malformedRule: 'Lost Update' is "
                + "neither a rule id (lower-case words joined by dots, e.g. mm.pin) nor a failure kind"), rule.getMessage());
    }

    @Test
    void badRuns_isAConfigurationErrorNamingTheAttribute() {
        Throwable t = failureOf(run("noRuns"));
        assertTrue(t instanceof ExtensionConfigurationException, t.toString());
        assertEquals("@Explore(runs = 0) on noRuns: runs must be at least 1", t.getMessage());
    }

    @Test
    void replay_ofNoFailureFile_isAClearError() throws Exception {
        Path notOne = Files.writeString(dir.resolve("notes.json"), "{\"hello\": 1}");
        System.setProperty(ExploreExtension.REPLAY_PROPERTY, notOne.toString());
        Throwable t = failureOf(run("lockedPasses"));
        assertTrue(t instanceof ExtensionConfigurationException, t.toString());
        assertTrue(t.getMessage().startsWith("-Dhmm4j.replay=" + notOne + ": "), t.getMessage());
    }

    @Test
    void replay_ofAnotherTestsFile_isAClearError() throws Exception {
        failureOf(run("laterFixed"));
        Path file = failureFile();
        System.setProperty(ExploreExtension.REPLAY_PROPERTY, file.toString());
        Throwable t = failureOf(run("lockedPasses"));
        assertTrue(t instanceof ExtensionConfigurationException, t.toString());
        assertEquals("-Dhmm4j.replay=" + file + " is the failure file of hmm4j.explore.junit.ExploreExpectAndReplayTest"
                + "$Designs#laterFixed, not of this test (hmm4j.explore.junit.ExploreExpectAndReplayTest$Designs"
                + "#lockedPasses): replay it with that test alone (mvn test -Dtest='Designs#laterFixed' -Dhmm4j.replay="
                + file.toAbsolutePath() + "), or leave hmm4j.replay out to explore this test", t.getMessage());
    }

    @Test
    void replay_afterTheFix_saysTheFailureNoLongerHappensAndWhatToDo() throws Exception {
        failureOf(run("laterFixed"));
        Path file = failureFile();
        System.setProperty(ExploreExtension.REPLAY_PROPERTY, file.toString());
        String advice = "\n  the recorded failure no longer happens: the design was fixed, or the schedule no longer "
                + "applies (the test or the code under it changed since the file was recorded); delete the file or "
                + "re-explore (run the test without -Dhmm4j.replay)\n";

        Designs.mode = Mode.LOCKED;           // the fix changes the schedule: the replay leaves it
        String locked = failureOf(run("laterFixed")).getMessage();
        assertTrue(locked.startsWith("hmm4j replay " + file + ": DIVERGED diverged at step "), locked);
        assertTrue(locked.contains(advice), locked);

        Designs.mode = Mode.CHECK_RELAXED;    // same schedule, the failure is gone
        String relaxed = failureOf(run("laterFixed")).getMessage();
        assertTrue(relaxed.startsWith("hmm4j replay " + file + ": DIFFERENT VERDICT: kind recorded "
                + "INVARIANT_VIOLATION, replay gave none"), relaxed);
        assertTrue(relaxed.contains(advice), relaxed);

        Designs.mode = Mode.RACY;             // not fixed: the replay reproduces it
        String racy = failureOf(run("laterFixed")).getMessage();
        assertTrue(racy.startsWith("hmm4j replay " + file + ": REPRODUCED invariant violated: lost update"), racy);
        assertFalse(racy.contains("no longer happens"), racy);
    }

    @Test
    void replay_ofAnExpectedFailure_passes() throws Exception {
        run("lostUpdateCaught").testEvents().assertStatistics(s -> s.succeeded(1));
        System.setProperty(ExploreExtension.REPLAY_PROPERTY, failureFile().toString());
        run("lostUpdateCaught").testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    }

    /** The companions' names, as the extension writes them. */
    private static final class RunFilesOf {
        static Path html(Path failureFile) {
            return hmm4j.explore.report.RunFiles.companions(failureFile)[0];
        }
    }
}
