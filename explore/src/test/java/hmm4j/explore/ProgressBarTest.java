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
        assertEquals(3, out.split(java.util.regex.Pattern.quote(ProgressBar.CLEAR), -1).length - 1, "two redraws and the clear: " + out);
        assertTrue(out.contains("1/4 runs") && out.contains("4/4 runs  2 runs/s  1 failure"), out);
        assertTrue(!out.contains("2/4 runs"), out);
        assertTrue(out.endsWith(ProgressBar.CLEAR), "the line is cleared");
    }

    @Test
    void line_fitsEveryWidth_droppingTheBarThenTheRate() {
        for (int columns = 1; columns <= 120; columns++) {
            String line = ProgressBar.line("S1-kvm-mmgrab", 123456, 1000000, 12, 3_000_000_000L, columns);
            assertTrue(line.length() <= columns - 1, columns + ": " + line);
        }
        String wide = ProgressBar.line("S1", 500, 1000, 1, 2_000_000_000L, 120);
        assertEquals("S1 [############............] 500/1000 runs  250 runs/s  1 failure", wide);
        assertEquals("S1 [####....] 500/1000 runs  250 runs/s  1 failure",
                ProgressBar.line("S1", 500, 1000, 1, 2_000_000_000L, 51), "the bar shrinks to what is left");
        assertEquals("S1 500/1000 runs  250 runs/s  1 failure", ProgressBar.line("S1", 500, 1000, 1, 2_000_000_000L, 40),
                "then goes");
        assertEquals("S1 500/1000 runs  1 failure", ProgressBar.line("S1", 500, 1000, 1, 2_000_000_000L, 30));
        assertEquals("S1 500/1000 runs  1 fai", ProgressBar.line("S1", 500, 1000, 1, 2_000_000_000L, 24));
    }

    @Test
    void bar_onNarrowTerminals_neverWrapsNorPrintsANewline() {
        for (int columns : new int[] {40, 20}) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "S3a-get-put", columns);
            for (int i = 1; i <= 50; i++) {
                bar.runFinished(i * 1000L, 50_000, i / 10, i * 1_000_000_000L);
            }
            bar.finished();
            String out = bytes.toString(StandardCharsets.UTF_8);
            assertTrue(out.indexOf('\n') < 0, "no newline between redraws: " + out);
            String[] draws = out.split(java.util.regex.Pattern.quote(ProgressBar.CLEAR), -1);
            assertEquals(52, draws.length, "50 redraws in place and the final clear");
            assertEquals("", draws[0]);
            assertEquals("", draws[draws.length - 1], "ends cleared");
            for (String d : draws) {
                assertTrue(d.length() <= columns - 1, columns + " columns: '" + d + "'");
            }
            assertTrue(draws[50].startsWith("S3a-get-put 50000/5"), draws[50]);
        }
    }

    @Test
    void columns_fromTheEnvironment_positiveNumbersOnly() {
        assertEquals(java.util.Optional.of(132), ProgressBar.columns("132"));
        assertEquals(java.util.Optional.of(40), ProgressBar.columns(" 40\n"));
        assertTrue(ProgressBar.columns(null).isEmpty());
        assertTrue(ProgressBar.columns("0").isEmpty());
        assertTrue(ProgressBar.columns("-3").isEmpty());
        assertTrue(ProgressBar.columns("wide").isEmpty());
        assertTrue(ProgressBar.columns() > 0);
    }

    @Test
    void summary_saysRunsRateFailuresAndSeeds() {
        ProgressBar bar = new ProgressBar(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), "t");
        assertEquals("0 runs in 0.0 s (0 runs/s), 0 failures, no seed covered", bar.summary());
        Explorer.explore(ClassicBugs.lockedUpdate(), ExploreOptions.defaults().withStrategy(StrategySpec.RANDOM)
                .withRuns(30).withFirstSeed(5).withWorkers(2).withProgress(bar));
        assertTrue(bar.summary().matches("30 runs in [0-9.]+ s \\([0-9]+ runs/s\\), 0 failures, seeds 5\\.\\.34"),
                bar.summary());
        bar.runDone(40, 45, true);
        bar.runDone(35, 40, true);
        bar.runFinished(32, 100, 2, 2_000_000_000L);
        assertEquals("32 runs in 2.0 s (16 runs/s), 2 failures (first at run 35, seed 40), seeds 5..45 (32 of them)",
                bar.summary());
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
