package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.report.TextReport;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** End-of-run checks are named, and the run's result and report say which ran. */
class QuiescenceChecksTest {
    private static final Rule FOUND = Rule.own("test.end-check", FailureKind.INVARIANT_VIOLATION,
            "the end-of-run check of this test finds nothing");

    @Test
    void everyCheckRuns_inOrder_andEachNameIsListedOnce() {
        Kernel k = Kernel.controlled(1);
        List<String> order = new ArrayList<>();
        k.atQuiescence("first", () -> order.add("first#1"));
        k.atQuiescence("second", () -> order.add("second"));
        k.atQuiescence("first", () -> order.add("first#2"));
        k.spawnKthread("t", self -> { });
        RunResult r = k.run();
        assertTrue(r.clean());
        assertEquals(List.of("first#1", "second", "first#2"), order);
        assertEquals(List.of("first", "second"), r.validators());
        assertTrue(TextReport.render(r).contains("checked at the end: first, second\n"), TextReport.render(r));
    }

    @Test
    void aCheckThatReports_endsTheChecksOfAControlledRun() {
        Kernel k = Kernel.controlled(1);
        List<String> ran = new ArrayList<>();
        k.atQuiescence("finds something", () -> {
            ran.add("finds something");
            k.report(new Failure.InvariantViolation(FOUND, "a test report", k.site()));
        });
        k.atQuiescence("never reached", () -> ran.add("never reached"));
        k.spawnKthread("t", self -> { });
        RunResult r = k.run();
        assertEquals(1, r.failures().size());
        assertEquals(List.of("finds something"), ran);
        assertEquals(List.of("finds something"), r.validators());
    }

    @Test
    void aRunStoppedByAFailure_ranNoEndCheck() {
        Kernel k = Kernel.controlled(1);
        k.atQuiescence("leaks", () -> { });
        k.spawnKthread("t", self -> {
            throw new IllegalStateException("driver bug");
        });
        RunResult r = k.run();
        assertEquals(List.of(), r.validators());
        assertTrue(!TextReport.render(r).contains("checked at the end"));
    }

    @Test
    void aCheckNeedsAName() {
        Kernel k = Kernel.controlled(1);
        assertThrows(IllegalArgumentException.class, () -> k.atQuiescence(" ", () -> { }));
        assertThrows(NullPointerException.class, () -> k.atQuiescence(null, () -> { }));
    }
}
