package hmm4j.explore.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.explore.replay.FailureFile;
import hmm4j.explore.replay.FailureFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@code @Explore} test whose driver calls {@code System.exit(0)}, in a JVM of its own
 * ({@link ExploreExitMain}): the JVM still exits with the driver's status (nothing can stop
 * it on JDK 21+), but the extension's shutdown hook prints the test, the task and the run on
 * standard error and writes the run's failure file (its decisions up to the exit).
 */
class ExploreExitTest {
    @TempDir
    Path dir;

    @Test
    void anExploredTestWhoseDriverCallsSystemExit_printsTheRunAndWritesItsFile() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path err = dir.resolve("err.txt");
        Path failures = dir.resolve("failures");
        Process p = new ProcessBuilder(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--add-exports",
                "java.base/jdk.internal.vm=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ExploreExitMain.class.getName(), failures.toString()))
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(err.toFile()).start();
        boolean ended = p.waitFor(60, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String text = Files.readString(err, StandardCharsets.UTF_8);
        assertTrue(ended, text);
        assertEquals(0, p.exitValue(), "the driver's status: " + text);
        String test = ExploreExitMain.ExitingTests.class.getName() + "#exitingDriver";
        Matcher m = Pattern.compile("hmm4j explore " + Pattern.quote(test) + ": FAIL the JVM is exiting: task exiter "
                + "called System.exit in run (\\d+) \\(seed (\\d+)\\) at step (\\d+) \\(a task's exit cannot be "
                + "intercepted on JDK 21\\+\\)\\R  failure saved: (\\S+) \\(the run's decisions up to the exit\\)\\R"
                + "  replay: mvn test -Dtest='ExitingTests#exitingDriver' -Dhmm4j\\.replay=\\S+\\R").matcher(text);
        assertTrue(m.find(), text);
        FailureFile f = FailureFiles.read(Path.of(m.group(4)));
        assertEquals(test, f.scenario());
        assertEquals(Long.parseLong(m.group(3)), f.decisions().size());
        assertEquals(Integer.parseInt(m.group(1)), f.runIndex());
        assertTrue(f.verdict().headline().startsWith("unexpected exception in exiter: System.exit"),
                f.verdict().headline());
    }
}
