package hmm4j.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code hmm4j} command: global options and the subcommands, one per capability.
 *
 * <p>Use {@link #configure} on a {@code new CommandLine(new Main())} before executing it:
 * it routes output to the given writers and installs the error handling of the package
 * conventions (one line on standard error; exit 2 for wrong arguments, 1 for errors).
 */
@Command(name = "hmm4j",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        synopsisSubcommandLabel = "COMMAND",
        description = {
            "An executable model of Linux HMM, mmu notifiers and mm_struct lifetime,",
            "with a lifetime sanitizer, a lockdep-style checker and deterministic scheduling.",
            ""
        },
        footer = {"", "Run 'hmm4j COMMAND --help' for the options of a command."},
        subcommands = {CheckCommand.class, ExploreCommand.class, ReplayCommand.class, MergeCommand.class,
            BenchCommand.class, SelftestCommand.class, HelpCommand.class})
public final class Main implements Callable<Integer> {

    /** The environment variable that turns on stack traces, like {@code --debug}. */
    public static final String DEBUG_VARIABLE = "HMM4J_DEBUG";

    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Option(names = "--debug", hidden = true, scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error.")
    private boolean debug;

    /** The command, reading {@value #DEBUG_VARIABLE} from the process environment. */
    public Main() {
        this(System.getenv());
    }

    /** The command, reading {@value #DEBUG_VARIABLE} from {@code environment} (for tests). */
    Main(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = configure(new CommandLine(new Main()), out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * Prepares a command line built on a {@link Main} (with all its subcommands added) for
     * {@link CommandLine#execute}: output to {@code out}, errors to {@code err}, wrong
     * arguments reported in one line with exit code 2, exceptions from commands in one line
     * with exit code 1.
     *
     * @return {@code commandLine}, for chaining
     * @throws IllegalArgumentException if the command line's command is not a {@link Main}
     */
    public static CommandLine configure(CommandLine commandLine, PrintWriter out, PrintWriter err) {
        if (!(commandLine.getCommand() instanceof Main main)) {
            throw new IllegalArgumentException("not an hmm4j command line: " + commandLine.getCommandName());
        }
        ErrorHandler handler = new ErrorHandler(err, main::debugEnabled);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setParameterExceptionHandler(handler);
        commandLine.setExecutionExceptionHandler(handler);
        return commandLine;
    }

    /** No subcommand: the usage on standard error, exit code 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    /** True with {@code --debug} or {@code HMM4J_DEBUG=1}. */
    boolean debugEnabled() {
        return debug || "1".equals(environment.get(DEBUG_VARIABLE));
    }
}
