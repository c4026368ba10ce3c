package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class MainTest {

    /** A command that fails, to exercise the execution error path. */
    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalStateException("the model broke\nsecond line");
        }
    }

    @Test
    void version_printsFilteredProjectVersion() {
        Console c = Console.real().run("--version");
        assertEquals(0, c.exitCode());
        String first = c.out().lines().findFirst().orElse("");
        assertTrue(first.matches("hmm4j \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), first);
        assertEquals(first, "hmm4j " + VersionProvider.version());
        assertEquals("", c.err());
    }

    @Test
    void help_listsCheckCommand() {
        Console c = Console.real().run("--help");
        assertEquals(0, c.exitCode());
        assertTrue(c.out().startsWith("Usage: hmm4j"), c.out());
        assertTrue(c.out().lines().anyMatch(l -> l.strip().startsWith("check ")), c.out());
        assertEquals("", c.err());
    }

    @Test
    void noCommand_printsUsageOnStderrAndExits2() {
        Console c = Console.real().run();
        assertEquals(2, c.exitCode());
        assertTrue(c.err().startsWith("Usage: hmm4j"), c.err());
        assertEquals("", c.out());
    }

    @Test
    void unknownOption_oneLineAndExit2() {
        Console c = Console.real().run("--frob");
        assertEquals(2, c.exitCode());
        assertEquals(List.of("hmm4j: Unknown option: '--frob' (see 'hmm4j --help')"), c.errLines());
        assertEquals("", c.out());
    }

    @Test
    void unknownCommand_oneLineAndExit2() {
        Console c = Console.real().run("frob");
        assertEquals(2, c.exitCode());
        assertEquals(List.of("hmm4j: Unknown command: 'frob' (see 'hmm4j --help')"), c.errLines());
    }

    @Test
    void unknownOptionOfSubcommand_namesTheSubcommand() {
        Console c = Console.real().run("check", "--frob");
        assertEquals(2, c.exitCode());
        assertEquals(List.of("hmm4j: Unknown option: '--frob' (see 'hmm4j check --help')"), c.errLines());
    }

    @Test
    void badValue_oneLineAndExit2() {
        Console c = Console.real().run("check", "--runs", "many");
        assertEquals(2, c.exitCode());
        assertEquals(1, c.errLines().size(), c.err());
        assertTrue(c.err().startsWith("hmm4j: Invalid value for option '--runs': 'many'"), c.err());
    }

    @Test
    void failingCommand_oneLineExit1WithoutStack() {
        Console c = Console.with(Map.of(), new CheckCommand(), new Boom()).run("boom");
        assertEquals(1, c.exitCode());
        assertEquals(List.of("hmm4j: the model broke"), c.errLines());
    }

    @Test
    void failingCommand_debugOptionPrintsStack() {
        Console c = Console.with(Map.of(), new CheckCommand(), new Boom()).run("--debug", "boom");
        assertEquals(1, c.exitCode());
        assertEquals("hmm4j: the model broke", c.errLines().get(0));
        assertTrue(c.err().contains("java.lang.IllegalStateException: the model broke"), c.err());
        assertTrue(c.err().contains("at hmm4j.cli.MainTest$Boom.call"), c.err());
    }

    @Test
    void failingCommand_debugOptionAfterSubcommandPrintsStack() {
        Console c = Console.with(Map.of(), new CheckCommand(), new Boom()).run("boom", "--debug");
        assertEquals(1, c.exitCode());
        assertTrue(c.errLines().size() > 1, c.err());
    }

    @Test
    void failingCommand_debugVariablePrintsStack() {
        Console c = Console.with(Map.of(Main.DEBUG_VARIABLE, "1"), new CheckCommand(), new Boom()).run("boom");
        assertEquals(1, c.exitCode());
        assertTrue(c.err().contains("at hmm4j.cli.MainTest$Boom.call"), c.err());
    }

    @Test
    void configure_rejectsOtherCommands() {
        CommandLine other = new CommandLine(new Boom());
        assertThrows(IllegalArgumentException.class, () -> Main.configure(other, null, null));
    }
}
