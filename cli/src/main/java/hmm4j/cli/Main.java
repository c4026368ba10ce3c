package hmm4j.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.UsageMessageSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code hmm4j} command: global options and the subcommands, one per capability.
 *
 * <p>Use {@link #configure} on a {@code new CommandLine(new Main())} before executing it:
 * it routes output to the given writers, installs the error handling of the package
 * conventions (one line on standard error) and writes the exit-code contract of
 * {@link ExitCodes} into every command's help. The command list of the top-level help shows
 * the first sentence of each command's description, whole.
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
            ListCommand.class, BenchCommand.class, SelftestCommand.class, HelpCommand.class})
public final class Main implements Callable<Integer> {

    /** The environment variable that turns on stack traces, like {@code --debug}. */
    public static final String DEBUG_VARIABLE = "HMM4J_DEBUG";

    /**
     * The environment variable in which the {@code hmm4j} launcher passes the command the user
     * typed to run it (e.g. {@code ./hmm4j}), for the commands hmm4j prints; {@code hmm4j}
     * when unset.
     */
    public static final String COMMAND_VARIABLE = "HMM4J_COMMAND";

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
        describeExitCodes(commandLine);
        commandLine.getHelpSectionMap().put(UsageMessageSpec.SECTION_KEY_COMMAND_LIST, Main::commandList);
        return commandLine;
    }

    /** Writes the exit-code contract into the help of {@code commandLine} and its subcommands. */
    private static void describeExitCodes(CommandLine commandLine) {
        UsageMessageSpec usage = commandLine.getCommandSpec().usageMessage();
        if (!"help".equals(commandLine.getCommandName())) {
            usage.exitCodeListHeading(commandLine.getParent() == null ? "%nExit status (every command):%n"
                    : "%nExit status:%n").exitCodeList(ExitCodes.of(commandLine.getCommandName()));
        }
        commandLine.getSubcommands().values().forEach(Main::describeExitCodes);
    }

    /** The command list: each name with the first sentence of its description, wrapped, never cut. */
    private static String commandList(CommandLine.Help help) {
        Map<String, CommandLine.Help> subcommands = help.subcommands();
        if (subcommands.isEmpty()) {
            return "";
        }
        int width = help.commandSpec().usageMessage().width();
        int nameWidth = subcommands.keySet().stream().mapToInt(String::length).max().orElse(0) + 4;
        TextTable table = TextTable.forColumns(help.colorScheme(),
                new Column(nameWidth, 2, Column.Overflow.SPAN), new Column(width - nameWidth, 0, Column.Overflow.WRAP));
        subcommands.forEach((name, sub) -> table.addRowValues(name, summary(sub.commandSpec())));
        return table.toString();
    }

    /** The command's header, else the first sentence of its description. */
    static String summary(CommandSpec spec) {
        String[] header = spec.usageMessage().header();
        String text = String.join(" ", header.length > 0 ? header : spec.usageMessage().description())
                .replaceAll("\\s+", " ").strip();
        int end = text.indexOf(". ");
        return end < 0 ? text : text.substring(0, end + 1);
    }

    /**
     * The command the user typed to run hmm4j, as a shell word: {@value #COMMAND_VARIABLE} of
     * the root command's environment, or {@code hmm4j}.
     */
    static String invokedAs(CommandSpec spec) {
        CommandSpec root = spec;
        while (root.parent() != null) {
            root = root.parent();
        }
        String command = root.userObject() instanceof Main main ? main.environment.get(COMMAND_VARIABLE) : null;
        return command == null || command.isBlank() ? "hmm4j" : shellWord(command);
    }

    /** The environment of the root command (the process's, or a test's). */
    static Map<String, String> environment(CommandSpec spec) {
        CommandSpec root = spec;
        while (root.parent() != null) {
            root = root.parent();
        }
        return root.userObject() instanceof Main main ? main.environment : Map.of();
    }

    /** {@code word} quoted for a POSIX shell when it needs to be. */
    static String shellWord(String word) {
        return word.matches("[A-Za-z0-9_./:@%+=,-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
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
