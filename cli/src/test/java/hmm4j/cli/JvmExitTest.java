package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.replay.FailureFile;
import hmm4j.explore.replay.FailureFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver task that calls {@code System.exit(0)} during {@code hmm4j explore}, in a JVM of
 * its own ({@link ExitingDriverMain}): the exit cannot be intercepted, but the shutdown hook
 * prints the task, the run and what was explored so far, writes the failure file of the run
 * (its decisions up to the exit) and makes the exit code 1 (found), not the driver's 0; and
 * {@code hmm4j replay} of that file, which exits again at the same step, says it reproduced.
 */
class JvmExitTest {
    @TempDir
    Path dir;

    private record Ran(int code, String out, String err) {
    }

    private Ran run(String... args) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "--add-exports", "java.base/jdk.internal.vm=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ExitingDriverMain.class.getName()));
        command.addAll(List.of(args));
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        boolean ended = p.waitFor(60, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        Ran r = new Ran(ended ? p.exitValue() : -1, Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        assertTrue(ended, "the child JVM ended: " + r);
        return r;
    }

    @Test
    void aDriverCallingSystemExit_isReportedWithItsRunsFile_exitCode1_andTheFileReplaysTheExit() throws Exception {
        Path failures = dir.resolve("failures");
        Ran explore = run("explore", ExitingDriverMain.ID, "--strategy", "random", "--runs", "200", "--workers", "1",
                "--out", failures.toString(), "--no-minimise");
        assertEquals(ExitCodes.FOUND, explore.code(), explore.toString());
        Matcher m = Pattern.compile("hmm4j explore T-exit: FAIL the JVM is exiting: task exiter called System.exit "
                + "in run (\\d+) \\(seed (\\d+)\\) at step (\\d+) \\(a driver's exit cannot be intercepted on JDK "
                + "21\\+; the exploration stops here\\)\\R"
                + "  called from ExitingDriverMain\\.exitTheJvm\\(ExitingDriverMain\\.java:\\d+\\)\\R"
                + "  explored so far: (\\d+) runs? in [0-9.]+ s \\([0-9]+ runs/s\\), 0 failures.*\\R"
                + "  failure saved: (\\S+) \\(the run's decisions up to the exit\\)\\R"
                + "  replay: .* replay (\\S+)\\R").matcher(explore.err());
        assertTrue(m.find(), explore.err());
        int run = Integer.parseInt(m.group(1));
        assertEquals(run, Integer.parseInt(m.group(4)), "the runs before the exiting one were explored, clean");
        Path file = Path.of(m.group(5));
        assertEquals(failures.resolve("T-exit-run" + run + "-seed" + m.group(2) + ".json"), file);

        FailureFile f = FailureFiles.read(file);
        assertEquals("UNEXPECTED_EXCEPTION", f.verdict().kind());
        assertTrue(f.verdict().headline().startsWith("unexpected exception in exiter: System.exit"),
                f.verdict().headline());
        assertEquals(Long.parseLong(m.group(3)), f.decisions().size(), "the decisions up to the exit");
        assertEquals("exiter", f.decisions().get(f.decisions().size() - 1).task(), "the last choice ran the exiter");

        Ran replay = run("replay", file.toString());
        assertEquals(0, replay.code(), replay.toString());
        assertTrue(replay.out().startsWith("hmm4j replay " + file + ": REPRODUCED unexpected exception in exiter: "
                + "System.exit"), replay.out());
        assertTrue(replay.out().contains("  the JVM is exiting: task exiter called System.exit at step "
                + f.decisions().size() + " (it cannot be intercepted on JDK 21+; the replay stops here)"),
                replay.out());
    }
}
