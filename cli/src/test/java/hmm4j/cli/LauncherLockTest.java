package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./hmm4j} launcher's build lock, on a copy of the launcher in a scratch tree
 * whose jar is missing (so it must build), with a fake {@code mvn} that records each build
 * and a fake JDK whose {@code java} prints its arguments: the real build never runs. The
 * test holds the lock itself, sees the launcher say it waits (and not build), then releases
 * it; the order of events is fixed by what each process prints, not by time. The same fake
 * JDK shows the JVM options the launcher passes per command.
 */
@Timeout(120) // a launcher that never got the lock would otherwise hang the suite
class LauncherLockTest {
    @TempDir
    Path dir;

    private Path root;
    private Path bin;
    private Path builds;
    private Path jdk;

    @BeforeEach
    void scratchTree() throws IOException {
        Path repo = Path.of("").toAbsolutePath().getParent();
        assumeTrue(Files.isRegularFile(repo.resolve("hmm4j")), "the launcher is at the repository root");
        Files.createDirectories(dir.resolve("repo/scripts"));
        root = dir.resolve("repo").toRealPath(); // the launcher names its paths after resolving links
        Files.copy(repo.resolve("hmm4j"), root.resolve("hmm4j"));
        Files.copy(repo.resolve("scripts/find-jdk.sh"), root.resolve("scripts/find-jdk.sh"));
        Files.writeString(root.resolve("pom.xml"), "<project/>\n");
        builds = dir.resolve("builds.txt");
        bin = dir.resolve("bin");
        Files.createDirectories(bin);
        script(bin.resolve("mvn"), "echo build >> '" + builds + "'\nmkdir -p cli/target\necho jar > cli/target/hmm4j.jar\n");
        jdk = dir.resolve("jdk");
        Files.createDirectories(jdk.resolve("bin"));
        script(jdk.resolve("bin/java"), """
                case "$1" in -XshowSettings*) echo '    java.specification.version = 21' >&2; exit 0;; esac
                echo "java $*"
                """);
        script(jdk.resolve("bin/javac"), "exit 0\n");
    }

    private static void script(Path p, String body) throws IOException {
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Starts the launcher with {@code path} as its PATH. */
    private Process launcher(String path) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", root.resolve("hmm4j").toString(), "check");
        Map<String, String> env = pb.environment();
        env.put("PATH", path);
        env.put("JAVA_HOME", jdk.toString());
        return pb.start();
    }

    /** Reads lines of {@code r} until one starts with {@code prefix}; returns it. */
    private static String lineStartingWith(BufferedReader r, String prefix) throws IOException {
        List<String> seen = new ArrayList<>();
        for (String line = r.readLine(); line != null; line = r.readLine()) {
            if (line.startsWith(prefix)) {
                return line;
            }
            seen.add(line);
        }
        throw new AssertionError("no line starting with '" + prefix + "' in " + seen);
    }

    /** A directory of links to the tools the launcher uses, and no flock: a PATH for the fallback. */
    private Path toolsWithoutFlock() throws IOException {
        Path tools = dir.resolve("tools");
        Files.createDirectories(tools);
        for (String t : List.of("bash", "sh", "readlink", "dirname", "find", "mktemp", "tail", "sed", "rm", "mkdir",
                "sleep", "cat", "head")) {
            for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
                Path exe = Path.of(d, t);
                if (Files.isExecutable(exe)) {
                    Files.createSymbolicLink(tools.resolve(t), exe.toRealPath());
                    break;
                }
            }
        }
        return tools;
    }

    private int buildCount() throws IOException {
        return Files.exists(builds) ? Files.readAllLines(builds).size() : 0;
    }

    @Test
    void withFlock_aSecondLauncherWaitsSaysSo_andDoesNotRebuildWhatTheFirstBuilt() throws Exception {
        assumeTrue(onPath("flock"), "flock is installed");
        Path lock = root.resolve("target/hmm4j-build.lock");
        Files.createDirectories(lock.getParent());
        Process holder = new ProcessBuilder("flock", lock.toString(), "sh", "-c", "echo held; read x").start();
        BufferedReader held = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("held", held.readLine());

        Process second = launcher(bin + ":" + System.getenv("PATH"));
        BufferedReader err = new BufferedReader(new InputStreamReader(second.getErrorStream(), StandardCharsets.UTF_8));
        assertEquals("hmm4j: waiting for another hmm4j build to finish (lock: " + lock + ")...",
                lineStartingWith(err, "hmm4j: waiting"));
        assertEquals(0, buildCount(), "no build while another holds the lock");
        assertTrue(second.isAlive(), "it waits");

        // The holder "builds" the jar, newer than every source, then lets go.
        Path jar = root.resolve("cli/target/hmm4j.jar");
        Files.createDirectories(jar.getParent());
        Files.writeString(jar, "jar\n");
        Files.setLastModifiedTime(root.resolve("pom.xml"), FileTime.from(Instant.now().minusSeconds(60)));
        try (OutputStream in = holder.getOutputStream()) {
            in.write('\n');
        }
        assertEquals(0, holder.waitFor());
        String out = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, second.waitFor());
        assertEquals("java -XX:TieredStopAtLevel=1 -jar " + jar + " check\n", out);
        assertEquals(0, buildCount(), "the jar the other launcher built is used, not rebuilt");
    }

    @Test
    void withFlock_aLauncherAlone_buildsOnce() throws Exception {
        assumeTrue(onPath("flock"), "flock is installed");
        Process p = launcher(bin + ":" + System.getenv("PATH"));
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        assertEquals("hmm4j: building (first use)...\n", err);
        assertEquals(1, buildCount());
    }

    @Test
    void withoutFlock_aLockDirectoryIsUsed_andALiveOwnerIsWaitedFor() throws Exception {
        Path tools = toolsWithoutFlock();
        Path lockDir = root.resolve("target/hmm4j-build.lock.d");
        Files.createDirectories(lockDir);
        Files.writeString(lockDir.resolve("pid"), ProcessHandle.current().pid() + "\n");
        Process p = launcher(bin + ":" + tools);
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        assertEquals("hmm4j: waiting for another hmm4j build to finish (lock: " + lockDir + ")...",
                lineStartingWith(err, "hmm4j: waiting"));
        assertEquals(0, buildCount(), "no build while a live launcher holds the lock");
        Files.delete(lockDir.resolve("pid"));
        Files.delete(lockDir);
        assertEquals("hmm4j: building (first use)...", lineStartingWith(err, "hmm4j: building"));
        assertEquals(0, p.waitFor());
        assertEquals(1, buildCount());
        assertFalse(Files.exists(lockDir), "the lock is released");
    }

    @Test
    void withoutFlock_theLockOfALauncherThatIsGone_isTakenOver() throws Exception {
        Path tools = toolsWithoutFlock();
        Process gone = new ProcessBuilder("true").start();
        long pid = gone.pid();
        gone.waitFor();
        Path lockDir = root.resolve("target/hmm4j-build.lock.d");
        Files.createDirectories(lockDir);
        Files.writeString(lockDir.resolve("pid"), pid + "\n");
        Process p = launcher(bin + ":" + tools);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        assertTrue(err.startsWith("hmm4j: taking over the build lock of a launcher that is gone (pid " + pid), err);
        assertEquals(1, buildCount());
    }

    /** The java command line the launcher runs for {@code args}, with {@code javaOpts} as HMM4J_JAVA_OPTS (null: unset). */
    private String javaLine(String javaOpts, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/bin/bash", root.resolve("hmm4j").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("JAVA_HOME", jdk.toString());
        pb.environment().remove("HMM4J_JAVA_OPTS");
        if (javaOpts != null) {
            pb.environment().put("HMM4J_JAVA_OPTS", javaOpts);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        return lineStartingWith(new BufferedReader(new java.io.StringReader(out)), "java ");
    }

    /**
     * {@code check} runs on C1 alone (measured faster on a cold JVM, docs/performance.md);
     * no other command does, and a user's own word on tiering in HMM4J_JAVA_OPTS wins.
     */
    @Test
    void check_runsOnC1Alone_otherCommandsAndAUsersTieringChoice_doNot() throws Exception {
        String check = javaLine(null, "check", "--only", "S4-find");
        assertTrue(check.contains(" -XX:TieredStopAtLevel=1 -jar "), check);
        assertTrue(check.endsWith(" check --only S4-find"), check);
        String explore = javaLine(null, "explore", "S4-find");
        assertFalse(explore.contains("TieredStopAtLevel"), explore);
        String own = javaLine("-XX:+TieredCompilation -Xss2m", "check");
        assertFalse(own.contains("TieredStopAtLevel"), own);
        assertTrue(own.contains(" -XX:+TieredCompilation -Xss2m -jar "), own);
        String other = javaLine("-Xss2m", "check");
        assertTrue(other.contains(" -Xss2m -XX:TieredStopAtLevel=1 -jar "), other);
    }
}
