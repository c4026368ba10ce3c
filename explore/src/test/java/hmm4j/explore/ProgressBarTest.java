package hmm4j.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.strategy.StrategySpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    @Test
    void line_showsRunsRateAndFailures() {
        assertEquals("S1 [############............] 500/1000 runs  250 runs/s  1 failure",
                ProgressBar.line("S1", 500, 1000, 1, 2_000_000_000L));
        assertEquals("x [........................] 0/10 runs  0 runs/s  0 failures", ProgressBar.line("x", 0, 10, 0, 0));
    }

    @Test
    void line_timeBoundedOnly_showsTheRunsWithoutAPlan() {
        assertEquals("S1 [........................] 500 runs  250 runs/s  0 failures",
                ProgressBar.line("S1", 500, -1, 0, 2_000_000_000L));
    }

    @Test
    void explorer_withUnboundedRuns_reportsNoPlan() {
        List<Long> planned = new ArrayList<>();
        ProgressListener listener = new ProgressListener() {
            @Override
            public void runFinished(long runsDone, long runsPlanned, long failures, long elapsedNanos) {
                planned.add(runsPlanned);
            }

            @Override
            public void finished() {
            }
        };
        Explorer.explore(ClassicBugs.lockedUpdate(), ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM)
                .withRuns(ExploreOptions.UNBOUNDED_RUNS).withTimeBudget(java.time.Duration.ofMillis(500)).withWorkers(1)
                .withProgress(listener));
        assertTrue(!planned.isEmpty() && planned.stream().allMatch(p -> p == -1), planned.toString());
    }

    @Test
    void bar_redrawsInPlace_andClearsItsLineAtTheEnd() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "t");
        bar.runFinished(1, 4, 0, 1_000_000_000L);
        bar.runFinished(2, 4, 0, 1_000_000_001L); // within the redraw interval: not drawn
        bar.runFinished(4, 4, 1, 2_000_000_000L);
        bar.finished();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(2, out.chars().filter(c -> c == '\r').count() - 2, out);
        assertTrue(out.contains("1/4 runs") && out.contains("4/4 runs  2 runs/s  1 failure"), out);
        assertTrue(!out.contains("2/4 runs"), out);
        assertTrue(out.endsWith("\r"), "the line is cleared");
    }

    @Test
    void notATerminal_givesTheSilentListener() {
        // The build runs tests without a terminal on standard error.
        assertSame(ProgressListener.NONE, ProgressBar.forTerminal("t"));
    }

    @Test
    void explorer_reportsEveryRunInOrderOfCompletion() {
        List<long[]> calls = new ArrayList<>();
        boolean[] finished = {false};
        ProgressListener listener = new ProgressListener() {
            @Override
            public void runFinished(long runsDone, long runsPlanned, long failures, long elapsedNanos) {
                calls.add(new long[] {runsDone, runsPlanned, failures});
            }

            @Override
            public void finished() {
                finished[0] = true;
            }
        };
        Explorer.explore(ClassicBugs.lockedUpdate(), ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM)
                .withRuns(25).withWorkers(2).withProgress(listener));
        assertEquals(25, calls.size());
        for (int i = 0; i < calls.size(); i++) {
            assertEquals(i + 1, calls.get(i)[0]);
            assertEquals(25, calls.get(i)[1]);
            assertEquals(0, calls.get(i)[2]);
        }
        assertTrue(finished[0]);
    }
}
