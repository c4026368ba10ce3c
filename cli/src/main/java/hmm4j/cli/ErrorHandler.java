package hmm4j.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.function.BooleanSupplier;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns picocli's parse errors and the exceptions of commands into one line on standard
 * error: {@code hmm4j: <what> (see 'hmm4j check --help')} with exit code 2 for wrong
 * arguments, {@code hmm4j: <message>} with exit code 1 for a failing command (plus the
 * stack trace when debugging is on).
 */
final class ErrorHandler implements IParameterExceptionHandler, IExecutionExceptionHandler {
    /** Exit code for wrong arguments. */
    static final int USAGE = 2;
    /** Exit code for a command that failed with an exception. */
    static final int ERROR = 1;

    private final PrintWriter err;
    private final BooleanSupplier debug;

    ErrorHandler(PrintWriter err, BooleanSupplier debug) {
        this.err = err;
        this.debug = debug;
    }

    /** Reports a wrong argument in one line; returns {@link #USAGE}. */
    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        err.println("hmm4j: " + oneLine(describe(ex)) + " (see '"
                + cmd.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return USAGE;
    }

    /** Reports a failed command in one line (and its stack when debugging); returns {@link #ERROR}. */
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        String message = ex.getMessage();
        if (message == null || message.isBlank()) {
            message = ex.getClass().getName();
        }
        err.println("hmm4j: " + oneLine(message));
        if (debug.getAsBoolean()) {
            ex.printStackTrace(err);
        }
        err.flush();
        return ERROR;
    }

    /** Picocli's message, except for a stray word, which is named as an unknown command. */
    private static String describe(ParameterException ex) {
        if (ex instanceof UnmatchedArgumentException u && !u.isUnknownOption()) {
            List<String> unmatched = u.getUnmatched();
            if (!unmatched.isEmpty() && !unmatched.get(0).startsWith("-")) {
                boolean hasCommands = !ex.getCommandLine().getSubcommands().isEmpty();
                return (hasCommands ? "Unknown command: '" : "Unexpected argument: '") + unmatched.get(0) + "'";
            }
        }
        return ex.getMessage();
    }

    private static String oneLine(String s) {
        String trimmed = s.strip();
        int nl = trimmed.indexOf('\n');
        return nl < 0 ? trimmed : trimmed.substring(0, nl).strip();
    }
}
