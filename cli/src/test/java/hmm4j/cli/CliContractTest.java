package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import hmm4j.sim.Mark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;

/**
 * The contract every command shares: the exit codes written in each {@code --help}, the
 * top-level command list, option checks before any work in the options' own terms, the
 * stack trace with {@code HMM4J_DEBUG=1}, and {@code hmm4j list}.
 */
class CliContractTest {
    private static final List<String> COMMANDS = List.of("check", "explore", "replay", "merge", "list", "bench",
            "selftest");

    @TempDir
    Path dir;

    /** A command that fails with Java's own exception. */
    @Command(name = "npe")
    static final class Npe implements Callable<Integer> {
        @Override
        public Integer call() {
            String s = null;
            return s.length();
        }
    }

    @Test
    void everyHelp_statesTheExitCodes() {
        for (String cmd : COMMANDS) {
            Console c = Console.real().run(cmd, "--help");
            assertEquals(0, c.exitCode(), cmd);
            assertTrue(c.out().contains("\nExit status:\n   0   "), cmd + ":\n" + c.out());
            assertTrue(c.out().contains("\n   2   bad input: "), cmd + ":\n" + c.out());
        }
        Console main = Console.real().run("--help");
        assertTrue(main.out().contains("""
                Exit status (every command):
                   0   clean: nothing wrong found
                   1   a failure found (or hmm4j itself failed)
                   2   bad input: wrong option or argument, unusable file; nothing ran
                   4   nothing ran (every selected scenario pending or test skipped)
                """), main.out());
        assertTrue(Console.real().run("check", "--help").out().contains("\n   4   nothing ran: every selected "
                + "scenario is pending\n"));
        assertTrue(Console.real().run("selftest", "--help").out().contains("\n   4   nothing ran: every selected "
                + "test was skipped\n"));
    }

    @Test
    void topLevelHelp_givesEachCommandAWholeSentence() {
        Console c = Console.real().run("--help");
        List<String> lines = c.out().lines().toList();
        int start = lines.indexOf("Commands:") + 1;
        List<String> entries = new ArrayList<>();
        for (int i = start; i < lines.size() && !lines.get(i).isBlank(); i++) {
            String l = lines.get(i);
            if (l.startsWith("  ") && !l.startsWith("   ")) {
                entries.add(l.strip().replaceAll("\\s+", " "));
            } else {
                entries.set(entries.size() - 1, entries.get(entries.size() - 1) + " " + l.strip());
            }
        }
        assertEquals(List.of("check", "explore", "replay", "merge", "list", "bench", "selftest", "help"),
                entries.stream().map(e -> e.split(" ")[0]).toList(), c.out());
        for (String e : entries) {
            assertTrue(e.endsWith("."), "cut mid-sentence: '" + e + "'");
        }
        assertTrue(entries.contains("explore Explore one scenario under controlled scheduling and report the first "
                + "failing interleaving."), entries.toString());
    }

    @Test
    void internalError_namesTheCommand_neverAJavaClass() {
        Console c = Console.with(Map.of(), new CheckCommand(), new Npe()).run("npe");
        assertEquals(1, c.exitCode());
        assertEquals(List.of("hmm4j: internal error in 'hmm4j npe' (HMM4J_DEBUG=1 shows the stack trace)"),
                c.errLines());
        Console debug = Console.with(Map.of(Main.DEBUG_VARIABLE, "1"), new CheckCommand(), new Npe()).run("npe");
        assertEquals("hmm4j: internal error in 'hmm4j npe'", debug.errLines().get(0));
        assertTrue(debug.err().contains("java.lang.NullPointerException"), debug.err());
        assertTrue(debug.err().contains("at hmm4j.cli.CliContractTest$Npe.call"), debug.err());
    }

    /** A command whose file cannot be written. */
    @Command(name = "denied")
    static final class Denied implements Callable<Integer> {
        @Override
        public Integer call() throws java.io.IOException {
            throw new java.nio.file.AccessDeniedException("/srv/out/run.html");
        }
    }

    @Test
    void unusableFile_namesTheFileAndTheReason_exit2() {
        Console c = Console.with(Map.of(), new CheckCommand(), new Denied()).run("denied");
        assertEquals(2, c.exitCode());
        assertEquals(List.of("hmm4j: /srv/out/run.html: permission denied"), c.errLines());
    }

    @Test
    void badInput_withDebug_addsTheStackTrace() {
        Console plain = Console.real().run("explore", "S1-vhost", "--max-steps", "0");
        assertEquals(List.of("hmm4j: --max-steps must be at least 1 (got 0) (see 'hmm4j explore --help')"),
                plain.errLines());
        Console debug = Console.with(Map.of(Main.DEBUG_VARIABLE, "1"), new CheckCommand())
                .run("merge", dir.resolve("none.json").toString());
        assertEquals(2, debug.exitCode());
        assertEquals("hmm4j: " + dir.resolve("none.json") + ": no such file (see 'hmm4j merge --help')",
                debug.errLines().get(0));
        assertTrue(debug.errLines().size() > 1, "HMM4J_DEBUG=1 adds the stack trace:\n" + debug.err());
        assertTrue(debug.err().contains("\tat hmm4j.cli.MergeCommand.call"), debug.err());
    }

    @Test
    void explore_optionsCheckedInTheirOwnTerms_beforeAnyWork() throws Exception {
        for (String[] bad : List.of(new String[] {"--runs", "0", "--runs must be at least 1 (got 0)"},
                new String[] {"--max-steps", "-1", "--max-steps must be at least 1 (got -1)"},
                new String[] {"--workers", "0", "--workers must be at least 1 (got 0)"},
                new String[] {"--lanes", "0", "--lanes must be at least 1 (got 0)"})) {
            Console c = Console.real().run("explore", "S1-kvm-mmgrab", bad[0], bad[1], "--out", dir.toString());
            assertEquals(2, c.exitCode(), bad[0]);
            assertEquals(List.of("hmm4j: " + bad[2] + " (see 'hmm4j explore --help')"), c.errLines());
            assertEquals("", c.out());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing explored, nothing written");
        }
    }

    @Test
    void explore_outIsAnExistingFile_refusedBeforeExploring() throws Exception {
        Path file = Files.writeString(dir.resolve("results"), "mine");
        Console c = Console.real().run("explore", "S1-kvm-mmgrab", "--out", file.toString());
        assertEquals(2, c.exitCode(), c.out());
        assertEquals(List.of("hmm4j: --out " + file + ": exists and is not a directory (give a directory for the "
                + "output files) (see 'hmm4j explore --help')"), c.errLines());
        assertEquals("", c.out(), "validated before exploring: no verdict printed");
        assertEquals("mine", Files.readString(file));
    }

    @Test
    void explore_timeAlone_isABudgetOfItsOwn() {
        Console c = Console.real().run("explore", "S1-vhost", "--time", "300ms", "--out", dir.toString());
        assertEquals(0, c.exitCode(), c.err());
        List<String> lines = c.out().lines().toList();
        assertTrue(lines.get(0).endsWith("; time budget spent"), "stopped by the time, not by 1000 runs:\n" + c.out());
        assertTrue(lines.get(1).contains("budget 300 ms (runs unbounded)"), c.out());
        Console both = Console.real().run("explore", "S1-vhost", "--time", "1h", "--runs", "30", "--out", dir.toString());
        assertTrue(both.out().startsWith("hmm4j explore S1-vhost: PASS no failure in 30 runs\n"), both.out());
        assertTrue(both.out().contains("budget 30 runs or 3600000 ms"), both.out());
    }

    @Test
    void replayCommand_isPrintedAsTheUserInvokedTheTool() throws Exception {
        Console c = Console.with(Map.of(Main.COMMAND_VARIABLE, "./hmm4j"), new CheckCommand())
                .run("explore", "S1-kvm-mmgrab", "--out", dir.toString(), "--workers", "1");
        assertEquals(1, c.exitCode(), c.err());
        Path file;
        try (Stream<Path> s = Files.list(dir)) {
            file = s.filter(p -> p.getFileName().toString().matches(".*-run\\d+-seed\\d+\\.json")).findFirst()
                    .orElseThrow();
        }
        assertTrue(c.out().contains("\n  replay: ./hmm4j replay " + file + "\n"), c.out());
        Console spaced = Console.with(Map.of(Main.COMMAND_VARIABLE, "/opt/my tools/hmm4j"), new CheckCommand())
                .run("replay", file.toString());
        assertEquals(0, spaced.exitCode(), spaced.err());
        assertTrue(spaced.out().contains("\n  replay: '/opt/my tools/hmm4j' replay " + file + "\n"), spaced.out());
        Console plain = Console.real().run("replay", file.toString());
        assertTrue(plain.out().contains("\n  replay: hmm4j replay " + file + "\n"), "hmm4j without the launcher");
    }

    @Test
    void list_everyScenarioWithItsVerdictRuleAndMarks() {
        Console c = Console.real().run("list");
        assertEquals(0, c.exitCode(), c.err());
        List<String> lines = c.out().lines().toList();
        assertEquals(List.of("scenario", "expected", "rule", "marks", "title"),
                List.of(lines.get(0).split("\\s{2,}")));
        for (Scenario s : Catalogue.all()) {
            String row = lines.stream().filter(l -> l.startsWith(s.id() + " ")).findFirst().orElseThrow(() ->
                    new AssertionError("no row for " + s.id() + ":\n" + c.out()));
            List<String> cells = List.of(row.split("\\s{2,}"));
            if (s.expectation().isPending()) {
                assertTrue(cells.get(1).startsWith(s.expectation().label() + " (pending: "), row);
            } else {
                assertEquals(s.expectation().label(), cells.get(1), row);
            }
            assertEquals(s.expectation().ruleId(), cells.get(2), row);
            if (!s.expectation().marks().isEmpty()) {
                assertEquals(String.valueOf(s.expectation().marks().size()), cells.get(3), row);
                assertTrue(lines.contains("  " + s.id() + ": " + String.join(", ",
                        s.expectation().marks().stream().map(Mark::id).toList())), c.out());
            }
        }
        assertTrue(lines.get(lines.size() - 1).startsWith(Catalogue.all().size() + " scenarios: "), c.out());
    }

    @Test
    void list_json() throws Exception {
        Console c = Console.real().run("list", "--json");
        assertEquals(0, c.exitCode(), c.err());
        JsonNode scenarios = new ObjectMapper().readTree(c.out()).get("scenarios");
        List<Scenario> all = Catalogue.all();
        assertEquals(all.size(), scenarios.size());
        for (int i = 0; i < all.size(); i++) {
            Scenario s = all.get(i);
            JsonNode n = scenarios.get(i);
            assertEquals(s.id(), n.get("id").asText());
            assertEquals(s.expectation().ruleId(), n.get("rule").asText());
            assertEquals(s.expectation().label(), n.get("expected").asText());
            List<String> marks = new ArrayList<>();
            n.get("marks").forEach(m -> marks.add(m.get("id").asText()));
            assertEquals(s.expectation().marks().stream().map(Mark::id).toList(), marks, s.id());
            assertFalse(n.has("pending") && !s.expectation().isPending(), s.id());
        }
    }
}
