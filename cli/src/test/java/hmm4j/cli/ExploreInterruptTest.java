package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.ProgressBar;
import hmm4j.explore.ProgressListener;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import hmm4j.scenarios.ScenarioRunner;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Ctrl-C prints during {@code hmm4j explore}: the shutdown hook's body, called directly
 * from inside a real exploration (no signal is sent).
 */
class ExploreInterruptTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream barBytes = new ByteArrayOutputStream();
    private final ProgressBar bar = new ProgressBar(new PrintStream(barBytes, true, StandardCharsets.UTF_8), "S", 40);
    private final ExploreCommand.Interrupt interrupt = new ExploreCommand.Interrupt(bar);
    private final StringWriter err = new StringWriter();

    private static Scenario scenario(String id) {
        return Catalogue.all().stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow();
    }

    /** Explores {@code id} with the bar, calling the hook once {@code when} holds of (runs done, failures). */
    private ExplorationResult explore(String id, BiPredicate<Long, Long> when) {
        boolean[] called = {false};
        ProgressListener listener = new ProgressListener() {
            @Override
            public void runDone(int runIndex, long seed, boolean failed) {
                bar.runDone(runIndex, seed, failed);
            }

            @Override
            public void runFinished(long runsDone, long runsPlanned, long failures, long elapsedNanos) {
                bar.runFinished(runsDone, runsPlanned, failures, elapsedNanos);
                if (!called[0] && when.test(runsDone, failures)) {
                    called[0] = true;
                    interrupt.onInterrupt(new PrintWriter(err, true), Duration.ZERO);
                }
            }

            @Override
            public void finished() {
                bar.finished();
            }
        };
        ExplorationResult r = ScenarioRunner.explore(scenario(id), ExploreOptions.defaults().withRuns(200).withWorkers(1)
                .withOutDir(dir).withProgress(listener));
        assertTrue(called[0], "the hook ran during the exploration");
        return r;
    }

    @Test
    void ctrlC_withoutFailure_clearsTheBarAndSaysWhatWasExplored() {
        explore("S1-vhost", (runs, failures) -> runs == 10);
        String text = err.toString();
        assertTrue(text.matches("(?s)interrupted: 10 runs in [0-9.]+ s \\([0-9]+ runs/s\\), 0 failures, seeds 1\\.\\.10\\R"
                + "  no failure found so far: nothing to save\\R"), text);
        String drawn = barBytes.toString(StandardCharsets.UTF_8);
        assertTrue(drawn.startsWith(ProgressBar.CLEAR + "S "), drawn);
        int cleared = drawn.indexOf(ProgressBar.CLEAR, ProgressBar.CLEAR.length());
        assertTrue(cleared > 0 && drawn.substring(0, cleared).indexOf('\n') < 0, "no newline before the clear: " + drawn);
    }

    @Test
    void ctrlC_afterAFailure_printsItsFileOnceWritten_orSaysHowToGetIt() throws Exception {
        ExplorationResult r = explore("S1-kvm-mmgrab", (runs, failures) -> failures > 0);
        String before = err.toString();
        assertTrue(before.startsWith("interrupted: "), before);
        assertTrue(before.contains(" 1 failure (first at run "), before);
        assertTrue(before.contains("  failure not saved: the failure file is written once the failing run is replayed"),
                "the explorer had not yet replayed it: " + before);

        interrupt.explored(r);
        err.getBuffer().setLength(0);
        interrupt.onInterrupt(new PrintWriter(err, true), Duration.ZERO);
        Path file = r.failure().orElseThrow().file().orElseThrow();
        assertTrue(Files.isRegularFile(file), file.toString());
        assertTrue(err.toString().endsWith("  failure saved: " + file + System.lineSeparator()), err.toString());
    }

    @Test
    void exploreHelp_statesTheInterruptedCode() {
        Console c = Console.real().run("explore", "--help");
        assertTrue(c.out().contains("\nCtrl-C prints what was explored so far (and where a failure found is saved)\n"
                + "on standard error and exits 130 (interrupted).\n"), c.out());
    }
}
