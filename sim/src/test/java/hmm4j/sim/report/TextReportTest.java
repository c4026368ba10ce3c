package hmm4j.sim.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The parts of the text report: options, wrapping, the failure layouts and the failure mark. */
class TextReportTest {

    @Test
    void replayCommand_isPrintedUnderTheSeed_onlyWhenGiven() {
        RunResult r = GoldenScenarios.deadlock();
        List<String> lines = TextReport.render(r, ReportOptions.defaults().withReplayCommand("hmm4j replay f.json"))
                .lines().toList();
        assertEquals("replay: hmm4j replay f.json", lines.get(2));
        assertFalse(TextReport.render(r).contains("replay:"));
        assertFalse(TextReport.render(r, ReportOptions.defaults().withReplayCommand(" ")).contains("replay:"));
    }

    @Test
    void maxEvents_keepsTheLastEvents_andSaysHowManyAreHidden() {
        RunResult r = GoldenScenarios.clean();
        String text = TextReport.render(r, 3);
        assertTrue(text.contains("(" + (r.trace().size() - 3) + " earlier events not shown)"), text);
        assertFalse(text.contains("| start"), text);
        assertThrows(IllegalArgumentException.class, () -> ReportOptions.defaults().withMaxEvents(0));
    }

    @Test
    void wrap_breaksAtSpacesThenAtNames_andIndentsContinuations() {
        assertEquals(List.of("blocked: mutex_lock(m) held", "  by writer"),
                Swimlanes.wrap("blocked: mutex_lock(m) held by writer", 28));
        assertEquals(List.of("spin_lock(mm#1", "  ->page_table_lock)"), Swimlanes.wrap("spin_lock(mm#1->page_table_lock)", 20));
        assertEquals(List.of("abcdefghij", "  klmnopqr"), Swimlanes.wrap("abcdefghijklmnopqr", 10));
        assertEquals(List.of("short"), Swimlanes.wrap("short", 10));
    }

    @Test
    void useAfterFree_showsItsThreeSites_eachWithTaskStepAndFrames() {
        Failure f = new Failure.UseAfterFree("mirror#1", "read mirror#1->pfn", new Site("probe", 3, List.of("A.alloc(A.java:1)")),
                new Site("teardown", 9, List.of("B.free(B.java:2)", "B.run(B.java:3)")),
                new Site("device", 12, List.of("C.read(C.java:4)")));
        assertEquals(List.of(
                "accessed by device at step 12:", "  C.read(C.java:4)",
                "allocated by probe at step 3:", "  A.alloc(A.java:1)",
                "freed by teardown at step 9:", "  B.free(B.java:2)", "  B.run(B.java:3)"), FailureText.details(f));
    }

    @Test
    void lockOrderCycle_ofThreeLocks_namesTheParentLockAndTheEarlierRun() {
        Failure.LockOrderCycle c = new Failure.LockOrderCycle("C", "A", List.of("C -> A at t3 @ step 9 at X.x(X.java:1)"),
                List.of(new Failure.LockLink("A", "B", "", 1, "t1", 3, 7, false, new Site("t1", 2, List.of("Y.y(Y.java:2)"))),
                        new Failure.LockLink("B", "C", " (B held for read)", 2, "t2", 2, 11, true,
                                new Site("t2", 5, List.of("Z.z(Z.java:3)")))),
                new Site("t3", 9, List.of("X.x(X.java:1)")));
        assertEquals(List.of("A -> B at t1 @ step 2 at Y.y(Y.java:2)",
                "B -> C (B held for read) at t2 @ step 5 at Z.z(Z.java:3) (earlier run 2, seed 11)"), c.existingLines());
        List<String> scenario = FailureText.unsafeLockingScenario(c);
        assertEquals(List.of(
                "Possible unsafe locking scenario:",
                "",
                "      CPU0 (t3)               CPU1 (t2, earlier run 2)",
                "      ---------               ------------------------",
                " lock(C);",
                "                              lock(B);",
                "                              lock(C);",
                " lock(A);",
                "",
                " *** DEADLOCK ***"), scenario);
    }

    @Test
    void lockOrderCycle_whoseLastLinkDoesNotEnterTheHeldLock_drawsTheTableWithoutCpu1sTask() {
        Failure.LockOrderCycle c = new Failure.LockOrderCycle("B", "A", List.of(),
                List.of(new Failure.LockLink("A", "C", "", 1, "t1", 1, 0, false, new Site("t1", 2, List.of()))),
                new Site("t2", 4, List.of()));
        List<String> scenario = FailureText.unsafeLockingScenario(c);
        assertEquals("      CPU0 (t2)               CPU1", scenario.get(2));
        assertEquals("                              lock(A);", scenario.get(5));
    }

    @Test
    void recursiveLocking_isAOneColumnTable() {
        Failure.LockOrderCycle c = new Failure.LockOrderCycle("A", "A", List.of(), List.of(), new Site("t", 4, List.of()));
        List<String> scenario = FailureText.unsafeLockingScenario(c);
        assertEquals(List.of("Possible unsafe locking scenario:", "", "      CPU0 (t)", "      --------", " lock(A);",
                " lock(A);", "", " *** DEADLOCK ***", "", "May be due to missing lock nesting notation"), scenario);
    }

    @Test
    void failureOutsideAnyTask_isMarkedUnderTheColumns() {
        Failure leak = new Failure.RefcountError("mm#1", Failure.RefcountProblem.LEAK, "1 reference left",
                new Site("<end of run>", 5, List.of()));
        RunResult clean = GoldenScenarios.clean();
        RunResult r = new RunResult(clean.seed(), clean.strategy(), List.of(leak), clean.steps(), clean.virtualNanos(),
                clean.decisions(), clean.trace(), Optional.empty(), clean.taskNames());
        String text = TextReport.render(r);
        assertTrue(text.endsWith("        ✗ refcount error: reference leaked at the end of the run on mm#1 "
                + "(<end of run>, step 5)\n"), text);
    }

    @Test
    void eventText_describesSwitchesWithAndWithoutTheReason() {
        TraceEvent preempted = new TraceEvent(4, 1, "a", TraceEvent.Kind.OPERATION, "x", "", "",
                new TraceEvent.Switch(TraceEvent.SwitchReason.PREEMPTED, 2, "b"), "");
        TraceEvent blocked = new TraceEvent(5, 1, "a", TraceEvent.Kind.BLOCKED, "blocked: m", "mutex_lock(m) held by b",
                "", new TraceEvent.Switch(TraceEvent.SwitchReason.BLOCKED, 2, "b"), "");
        assertEquals(Optional.of("preempted, b runs"), EventText.describeSwitch(preempted));
        assertEquals(Optional.of("b runs"), EventText.describeSwitch(blocked));
        assertEquals(Optional.of("blocked; b runs"), EventText.describeSwitchWithReason(blocked));
        assertEquals("blocked: mutex_lock(m) held by b", EventText.describe(blocked));
    }
}
